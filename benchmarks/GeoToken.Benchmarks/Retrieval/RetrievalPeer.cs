using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>
/// The .NET half of benchmarks/peers/retrieval_compare.sh: exact search and the cluster index on
/// the same files FAISS reads, timed the same way (warm-up, then the median of repeated runs), with
/// recall against FAISS's exact ground truth (DATA_DIR/gt_I.npy). One JSON object per line.
/// </summary>
internal static class RetrievalPeer
{
    private const string Usage =
        "usage: peer retrieval DATA_DIR OUT.jsonl [--k 10] [--exact] [--cluster] [--clusters 800] [--levels 2] [--leaf 64]\n" +
        "       [--store true|false] [--target 0.95] [--reps 3] [--threads N] [--batch 16384] [--index FILE] [--probes 40,200;60,300]\n" +
        "       [--upper-factor 10] [--margins 0.2,0.26] [--margin-factor 1.5]";

    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string data = args[0], outPath = args[1];
        var o = new Dictionary<string, string>();
        for (int i = 2; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException(Usage);
            string key = args[i][2..];
            o[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }

        int Int(string key, int fallback) => o.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        int k = Int("k", 10), reps = Int("reps", 3), threads = Int("threads", Environment.ProcessorCount), batch = Int("batch", 16384);
        double target = o.TryGetValue("target", out var t) ? double.Parse(t, CultureInfo.InvariantCulture) : 0.95;
        using var gallery = NpyFile.OpenFeatures(Path.Combine(data, "gallery.npy"));
        using var queries = NpyFile.OpenFeatures(Path.Combine(data, "queries.npy"));
        var (gt, gtRows, gtCols) = ReadInt64(Path.Combine(data, "gt_I.npy"));
        if (gtRows != queries.Rows || gtCols < k) throw new InvalidDataException($"gt_I.npy is {gtRows} × {gtCols}; {queries.Rows} × ≥{k} expected.");
        using var log = new StreamWriter(outPath, append: true);
        void Emit(Dictionary<string, object> fields)
        {
            var all = new Dictionary<string, object> { ["impl"] = "geotoken", ["rows"] = gallery.Rows, ["queries"] = queries.Rows, ["k"] = k, ["threads"] = threads, ["kernel"] = InnerProductKernel.Name };
            foreach (var (key, value) in fields) all[key] = value;
            string line = JsonSerializer.Serialize(all);
            log.WriteLine(line);
            log.Flush();
            Console.WriteLine(line);
        }

        var warm = FeatureMatrix.FromArray(ReadRows(queries, 0, (int)Math.Min(256, queries.Rows)), queries.Columns);
        if (o.ContainsKey("exact"))
        {
            var clock = Stopwatch.StartNew();
            using var exact = ExactIndex.Create(gallery, threads);
            double prep = clock.Elapsed.TotalSeconds;
            var options = new SearchOptions { K = k, MaxDegreeOfParallelism = threads, QueryBatchSize = batch };
            exact.Search(warm, options);
            int exactReps = Int("exact-reps", 1);
            var (seconds, found) = Timed(() => exact.Search(queries, options), exactReps);
            var (r1, r10) = Recalls(gt, gtCols, found, k);
            Emit(new() { ["kind"] = "flat", ["prep_s"] = prep, ["seconds"] = seconds, ["qps"] = queries.Rows / seconds, ["recall1"] = r1, ["recall10"] = r10 });
        }

        if (o.ContainsKey("torch"))
        {
            // Kernel option (b): BLAS via TorchSharp.
            double gflops = TorchExactBaseline.MatmulGflops(4096, 65536, queries.Columns, threads);
            var clock = Stopwatch.StartNew();
            using var tensor = TorchExactBaseline.LoadGallery(gallery);
            double prep = clock.Elapsed.TotalSeconds;
            TorchExactBaseline.Search(tensor, warm, k, threads);
            var times = new double[Int("exact-reps", 1)];
            (long[] Ids, float[] Sims) found = default;
            for (int r = 0; r < times.Length; r++)
            {
                clock.Restart();
                found = TorchExactBaseline.Search(tensor, queries, k, threads);
                times[r] = clock.Elapsed.TotalSeconds;
            }

            Array.Sort(times);
            var results = new NeighborResults();
            results.Begin(queries.Rows, k);
            results.Write(0, found.Ids, found.Sims);
            var (r1, r10) = Recalls(gt, gtCols, results, k);
            Emit(new() { ["kind"] = "flat-torch", ["matmul_gflops"] = gflops, ["prep_s"] = prep, ["seconds"] = times[times.Length / 2], ["qps"] = queries.Rows / times[times.Length / 2], ["recall1"] = r1, ["recall10"] = r10 });
        }

        if (o.TryGetValue("tune", out var tune))
        {
            // --tune 192,384:256,512 — exact-search tile sizes (query tile : gallery block) on the first --tune-queries queries.
            using var exact = ExactIndex.Create(gallery, threads);
            int n = Int("tune-queries", 2048);
            var subset = FeatureMatrix.FromArray(ReadRows(queries, 0, n), queries.Columns);
            var parts = tune.Split(':');
            foreach (int qt in parts[0].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
            {
                foreach (int rt in parts[1].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
                {
                    exact.QueryTile = qt;
                    exact.RowTile = rt;
                    var options = new SearchOptions { K = k, MaxDegreeOfParallelism = threads, QueryBatchSize = batch };
                    exact.Search(warm, options);
                    var (seconds, _) = Timed(() => exact.Search(subset, options), reps);
                    double gflops = 2.0 * n * gallery.Rows * gallery.Columns / seconds / 1e9;
                    Emit(new() { ["kind"] = "flat-tune", ["query_tile"] = qt, ["row_tile"] = rt, ["tune_queries"] = n, ["seconds"] = seconds, ["qps"] = n / seconds, ["gflops"] = gflops });
                }
            }
        }

        if (o.ContainsKey("cluster") || o.ContainsKey("index"))
        {
            var build = new ClusterIndexOptions
            {
                Clusters = Int("clusters", 800),
                Levels = Int("levels", 2),
                LeafSize = Int("leaf", 64),
                StoreVectors = !o.TryGetValue("store", out var s) || bool.Parse(s),
                MaxDegreeOfParallelism = threads,
            };
            string indexPath = o.TryGetValue("index", out var ip) ? ip : Path.Combine(data, $"index-{build.Clusters}-{build.Levels}-{build.LeafSize}-{(build.StoreVectors ? "v" : "p")}.gtidx");
            double buildSeconds = 0, writeSeconds = 0;
            if (o.ContainsKey("cluster") || !File.Exists(indexPath))
            {
                var report = ClusterIndex.BuildFile(gallery, indexPath, build);
                buildSeconds = report.BuildTime.TotalSeconds;
                writeSeconds = report.WriteTime.TotalSeconds;
            }

            var clock = Stopwatch.StartNew();
            using var index = ClusterIndex.Open(indexPath, gallery);
            double open = clock.Elapsed.TotalSeconds;
            var sizes = index.LeafSizes();
            Emit(new()
            {
                ["kind"] = "cluster-build", ["clusters"] = build.Clusters, ["levels"] = index.Levels, ["leaf_size"] = build.LeafSize,
                ["nodes"] = index.NodesPerLevel.ToArray(), ["build_s"] = buildSeconds, ["write_s"] = writeSeconds, ["open_s"] = open,
                ["file_bytes"] = new FileInfo(indexPath).Length, ["stores_vectors"] = index.StoresVectors,
                ["max_leaf"] = sizes.Max(), ["mean_leaf"] = sizes.Average(), ["default_probes"] = index.DefaultProbes.ToArray(), ["default_leaf_margin"] = (object?)index.DefaultLeafMargin ?? "none",
            });

            var cache = new Dictionary<string, double>();
            bool warmed = false;
            double Measure(int[] probes, double? margin = null)
            {
                string key = string.Join(",", probes) + "/" + margin?.ToString("R", CultureInfo.InvariantCulture);
                if (cache.TryGetValue(key, out double known)) return known;
                var options = new SearchOptions { K = k, Probes = probes, LeafMargin = margin, MaxDegreeOfParallelism = threads, QueryBatchSize = batch };
                if (!warmed)
                {
                    index.Search(queries, options);
                    warmed = true;
                }

                var (seconds, found) = Timed(() => index.Search(queries, options), reps);
                var (r1, r10) = Recalls(gt, gtCols, found, k);
                Emit(new()
                {
                    ["kind"] = "cluster", ["levels"] = index.Levels, ["probes"] = probes, ["leaf_margin"] = (object?)margin ?? "none", ["recall1"] = r1, ["recall10"] = r10,
                    ["scanned"] = found.Statistics!.ScannedFraction, ["seconds"] = seconds, ["qps"] = queries.Rows / seconds,
                    ["fallback"] = found.Statistics.FallbackQueries, ["stores_vectors"] = index.StoresVectors,
                });
                return cache[key] = r10;
            }

            if (o.TryGetValue("probes", out var grid))
            {
                var margins = o.TryGetValue("margins", out var mg) ? mg.Split(',').Select(x => (double?)double.Parse(x, CultureInfo.InvariantCulture)).ToArray() : [null];
                foreach (var config in grid.Split(';'))
                {
                    foreach (var margin in margins) Measure(config.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(), margin);
                }
            }
            else
            {
                // Smallest leaf beam reaching the target; upper levels as the index's default calibration widens them.
                double factor = o.TryGetValue("upper-factor", out var uf) ? double.Parse(uf, CultureInfo.InvariantCulture) : ClusterIndex.UpperBeamFactor;
                int[] For(int leafProbes) => index.ProbesForLeafBeam(leafProbes, factor);

                int lo = 0, hi = -1, leaves = index.NodesPerLevel[^1];
                for (int p = Math.Max(1, leaves / 256); p <= leaves; p *= 2)
                {
                    if (Measure(For(p)) >= target)
                    {
                        hi = p;
                        break;
                    }

                    lo = p;
                }

                if (hi > 0)
                {
                    while (hi - lo > Math.Max(1, hi / 16))
                    {
                        int mid = (lo + hi) / 2;
                        if (Measure(For(mid)) >= target) hi = mid;
                        else lo = mid;
                    }

                    Emit(new() { ["kind"] = "cluster-target", ["probes"] = For(hi), ["target"] = target });

                    // Leaf margin (SearchOptions.LeafMargin) over a wider beam, as the index's calibration does: the
                    // smallest margin reaching the target, by bisection (a wider margin scans a superset of leaves).
                    double factor2 = o.TryGetValue("margin-factor", out var mf) ? double.Parse(mf, CultureInfo.InvariantCulture) : 1.5;
                    var wide = For(Math.Min(leaves, (int)Math.Ceiling(factor2 * hi)));
                    double mlo = 0, mhi = 0.5;
                    if (Measure(wide, mhi) >= target)
                    {
                        while (mhi - mlo > 0.005)
                        {
                            double mid = Math.Round((mlo + mhi) / 2, 5);
                            if (Measure(wide, mid) >= target) mhi = mid;
                            else mlo = mid;
                        }

                        Emit(new() { ["kind"] = "cluster-margin-target", ["probes"] = wide, ["leaf_margin"] = mhi, ["target"] = target });
                    }
                }
            }
        }

        return 0;
    }

    private static (double Seconds, NeighborResults Results) Timed(Func<NeighborResults> run, int reps)
    {
        var times = new double[reps];
        NeighborResults? last = null;
        for (int r = 0; r < reps; r++)
        {
            var clock = Stopwatch.StartNew();
            last = run();
            times[r] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return (times[reps / 2], last!);
    }

    private static (double R1, double R10) Recalls(long[] gt, int gtCols, NeighborResults found, int k)
    {
        long q = found.QueryCount, top1 = 0, hits = 0;
        for (long i = 0; i < q; i++)
        {
            var truth = gt.AsSpan((int)(i * gtCols), k);
            var got = found.IndicesOf(i);
            if (got[0] == truth[0]) top1++;
            foreach (long id in got[..k])
            {
                if (truth.Contains(id)) hits++;
            }
        }

        return (top1 / (double)q, hits / (double)(q * k));
    }

    private static float[] ReadRows(FeatureMatrix m, long start, int count)
    {
        var x = new float[count * m.Columns];
        m.ReadRows(start, count, x);
        return x;
    }

    private static (long[] Values, long Rows, int Columns) ReadInt64(string path)
    {
        using var array = NpyFile.OpenMatrix<long>(path);
        return (array.GetRows(0, (int)array.Rows).ToArray(), array.Rows, array.Columns);
    }
}

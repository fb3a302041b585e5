using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using GeoToken.Data;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken retrieve</c>: neighbor files of a query set in a gallery, and the k-NN baseline.</summary>
internal static class RetrieveCommand
{
    public static Command Create()
    {
        var gallery = new GallerySetting("Gallery dataset folder.");
        var query = new Option<DirectoryInfo>("--query") { HelpName = "DIR", Description = "Query dataset folder (the gallery itself for training neighbors).", Required = true };
        var k = new Option<int>("--k") { HelpName = "K", Description = "Neighbors per query.", DefaultValueFactory = _ => 15 };
        var output = new Option<string>("--out") { HelpName = "PREFIX", Description = "Output prefix: PREFIX_I.npy (int64 rows), PREFIX_D.npy (float32 similarities) and PREFIX.json (their SHA-256 and the datasets they were computed from).", Required = true };
        var index = new Option<FileInfo?>("--index") { HelpName = "FILE", Description = "Search through this cluster index (default: exact search)." };
        var excludeSelf = new Option<bool>("--exclude-self") { Description = "Skip each query's own row (query set = gallery)." };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Write throughput, scanned fraction and (with LAT/LON) the 1-NN metrics as JSON. - writes it to standard output (the report then goes to standard error)." };
        var cmd = new Command("retrieve", "Find the k most similar gallery images of every query and write neighbor files.")
        {
            query, k, output, index, excludeSelf, json,
        };
        gallery.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(index) is not null && PgGalleryAddress.IsUri(gallery.Value(parse))) throw new CliUsageException("--index is a cluster index of a gallery folder; a postgresql:// gallery is searched through its HNSW index.");
            await using var opened = await gallery.OpenAsync(parse, parse.InvocationConfiguration.Error, ct).ConfigureAwait(false);
            string g = opened.Directory!, q = parse.GetValue(query)!.FullName, prefix = Path.GetFullPath(parse.GetValue(output)!);
            var options = new SearchOptions { K = parse.GetValue(k), ExcludeSelf = parse.GetValue(excludeSelf) };
            // Search into temporary files and check them (the 1-NN metrics read every query's and neighbor's
            // coordinates); only then move both into place, so a failure leaves no partial output.
            string staged = AtomicFile.TemporaryPathFor(prefix);
            SearchStatistics stats;
            GeoMetrics knn;
            try
            {
                stats = await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p =>
                {
                    var searchProgress = new Progress<SearchProgress>(s => p.Report(new("search", s.QueriesDone, s.QueryCount)));
                    return opened.Search is { } pg
                        ? RetrieveAsync(pg, g, q, staged, options, searchProgress, ct)
                        : Task.Run(() => NeighborSearch.Retrieve(g, q, staged, options, parse.GetValue(index)?.FullName, searchProgress, ct), ct);
                }).ConfigureAwait(false);
                knn = NearestNeighborMetrics(g, q, staged);
                AtomicFile.TryDelete(prefix + ".json"); // the sidecar goes last, after the files it describes
                AtomicFile.Commit(staged + "_I.npy", prefix + "_I.npy");
                AtomicFile.Commit(staged + "_D.npy", prefix + "_D.npy");
                AtomicFile.Commit(staged + ".json", prefix + ".json");
            }
            finally
            {
                AtomicFile.TryDelete(staged + "_I.npy");
                AtomicFile.TryDelete(staged + "_D.npy");
                AtomicFile.TryDelete(staged + ".json");
            }

            var output2 = parse.InvocationConfiguration.Output;
            string scanned = opened.Search is null ? $"scanned {100 * stats.ScannedFraction:F2}% of" : "in";
            output2.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{stats.Queries:N0} queries × {stats.K} neighbors ({stats.Method}, {stats.Kernel}) in {stats.ElapsedSeconds:F1} s: {stats.QueriesPerSecond:F0} queries/s, {scanned} {stats.GalleryRows:N0} gallery rows → {prefix}_I.npy, {prefix}_D.npy"));
            MetricsTable.Write(output2, [("kNN (top-1 neighbor)", knn)]);
            if (parse.GetValue(json) is { } j)
            {
                JsonReport.Write(j.FullName, new RetrieveJson
                {
                    Queries = stats.Queries,
                    K = stats.K,
                    Method = stats.Method,
                    Kernel = stats.Kernel,
                    Seconds = stats.ElapsedSeconds,
                    QueriesPerSecond = stats.QueriesPerSecond,
                    ScannedFraction = stats.ScannedFraction,
                    Knn = MetricsJson.From(knn),
                });
            }

            return 0;
        });
        return cmd.WithExamples("geotoken retrieve --gallery S/train --query S/test --k 15 --out S/test_nn", "geotoken retrieve --gallery S/train --query S/train --exclude-self --index S/train.gtci --out S/train_nn");
    }

    /// <summary>Neighbor files through a PostgreSQL gallery (its rows are those of the snapshot folder <paramref name="galleryDir"/>).</summary>
    private static async Task<SearchStatistics> RetrieveAsync(PgGallery search, string galleryDir, string queryDir, string prefix, SearchOptions options, IProgress<SearchProgress> progress, CancellationToken ct)
    {
        using var gallery = GeoDataset.Open(galleryDir);
        using var queries = GeoDataset.Open(queryDir);
        var provenance = new NeighborFileProvenance(queries.ContentId, gallery.ContentId, (options.ExcludeSelf ? "self, excluding each row; " : "") + "search: " + search.Method);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var sink = new NeighborFileWriter(prefix, provenance))
        {
            await search.SearchInto(queries.Image, options.K, options.ExcludeSelf, sink, progress, ct).ConfigureAwait(false);
        }

        return new SearchStatistics { Method = search.Method, Kernel = "pgvector", Queries = queries.Rows, K = options.K, GalleryRows = search.GalleryRows, Elapsed = clock.Elapsed, VectorsCompared = 0 };
    }

    /// <summary>The [L]kNN baseline: each query predicted at its most similar gallery image's location.</summary>
    private static GeoMetrics NearestNeighborMetrics(string galleryDir, string queryDir, string prefix)
    {
        using var gallery = GeoDataset.Open(galleryDir);
        bool same = string.Equals(Path.GetFullPath(galleryDir), Path.GetFullPath(queryDir), StringComparison.Ordinal);
        using var queries = same ? null : GeoDataset.Open(queryDir);
        var q = queries ?? gallery;
        using var neighbors = NeighborFile.Open(prefix);
        var d = new double[neighbors.QueryCount];
        for (long i = 0; i < d.Length; i++) d[i] = Geodesy.HaversineKm(q.GetLocation(i), gallery.GetLocation(neighbors.Indices[i, 0]));
        return GeoMetrics.FromDistances(d);
    }

    private sealed record RetrieveJson
    {
        [JsonPropertyName("queries")] public required long Queries { get; init; }
        [JsonPropertyName("k")] public required int K { get; init; }
        [JsonPropertyName("method")] public required string Method { get; init; }
        [JsonPropertyName("kernel")] public required string Kernel { get; init; }
        [JsonPropertyName("seconds")] public required double Seconds { get; init; }
        [JsonPropertyName("queries_per_second")] public required double QueriesPerSecond { get; init; }
        [JsonPropertyName("scanned_fraction")] public required double ScannedFraction { get; init; }
        [JsonPropertyName("knn")] public required MetricsJson Knn { get; init; }
    }
}

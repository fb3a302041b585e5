using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using GeoToken.Data;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken retrieve</c>: neighbour files of a query set in a gallery, and the k-NN baseline.</summary>
internal static class RetrieveCommand
{
    public static Command Create()
    {
        var gallery = new Option<DirectoryInfo>("--gallery") { Description = "Gallery dataset folder.", Required = true };
        var query = new Option<DirectoryInfo>("--query") { Description = "Query dataset folder (the gallery itself for training neighbours).", Required = true };
        var k = new Option<int>("--k") { Description = "Neighbours per query.", DefaultValueFactory = _ => 15 };
        var output = new Option<string>("--out") { Description = "Output prefix: PREFIX_I.npy (int64 rows), PREFIX_D.npy (float32 similarities) and PREFIX.json (their SHA-256 and the datasets they were computed from).", Required = true };
        var index = new Option<FileInfo?>("--index") { Description = "Search through this cluster index (default: exact search)." };
        var excludeSelf = new Option<bool>("--exclude-self") { Description = "Skip each query's own row (query set = gallery)." };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Write throughput, scanned fraction and (with LAT/LON) the 1-NN metrics as JSON. - writes it to standard output (the report then goes to standard error)." };
        var cmd = new Command("retrieve", "Find the k most similar gallery images of every query and write neighbour files.")
        {
            gallery, query, k, output, index, excludeSelf, json,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            string g = parse.GetValue(gallery)!.FullName, q = parse.GetValue(query)!.FullName, prefix = Path.GetFullPath(parse.GetValue(output)!);
            var options = new SearchOptions { K = parse.GetValue(k), ExcludeSelf = parse.GetValue(excludeSelf) };
            // Search into temporary files and check them (the 1-NN metrics read every query's and neighbour's
            // coordinates); only then move both into place, so a failure leaves no partial output.
            string staged = AtomicFile.TemporaryPathFor(prefix);
            SearchStatistics stats;
            GeoMetrics knn;
            try
            {
                stats = await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p => Task.Run(() =>
                    NeighborSearch.Retrieve(g, q, staged, options, parse.GetValue(index)?.FullName, new Progress<SearchProgress>(s => p.Report(new("search", s.QueriesDone, s.QueryCount))), ct), ct)).ConfigureAwait(false);
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
            output2.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{stats.Queries:N0} queries × {stats.K} neighbours ({stats.Method}, {stats.Kernel}) in {stats.ElapsedSeconds:F1} s: {stats.QueriesPerSecond:F0} queries/s, scanned {100 * stats.ScannedFraction:F2}% of {stats.GalleryRows:N0} gallery rows → {prefix}_I.npy, {prefix}_D.npy"));
            MetricsTable.Write(output2, [("kNN (top-1 neighbour)", knn)]);
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
        return cmd;
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

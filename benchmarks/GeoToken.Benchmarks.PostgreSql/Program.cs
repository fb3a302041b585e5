using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GeoToken.Data;
using GeoToken.Retrieval;
using GeoToken.Retrieval.PostgreSql.Tests;
using GeoToken.SynthGeo;

// PostgreSQL + pgvector galleries against the in-process searches on one SynthGeo gallery:
//   --rows N (100000) --dim D (512) --queries Q (1000) --ef 10,20,40,80,160 --clients 1,4,16 [--data DIR] [--json FILE]
// Starts a private PostgreSQL 17 server (unix socket in a temporary folder; removed at the end), pushes the gallery
// (load time, index build time and size), computes the exact top-10 of every query in process, then measures recall@10
// and queries/s of each engine with 1, 4 and 16 concurrent clients, each client sending one query per call.
var a = Args.Parse(args);
long rows = a.Long("rows", 100_000);
int dim = (int)a.Long("dim", 512), nq = (int)a.Long("queries", 1000);
int[] efs = a.Ints("ef", [10, 20, 40, 80, 160]);
int[] clients = a.Ints("clients", [1, 4, 16]);
const int K = 10;
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load average {File.ReadAllText("/proc/loadavg").Trim()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

string dataDir = a.Get("data") ?? Path.Combine(Path.GetTempPath(), $"geotoken-pg-bench-{rows}-{dim}");
if (!File.Exists(Path.Combine(dataDir, "train", "meta.csv")))
{
    var clock0 = Stopwatch.StartNew();
    await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = dataDir, TrainRows = rows, TestRows = nq, Dimension = dim, Seed = 7 });
    Console.WriteLine($"SynthGeo {rows:N0} × {dim}-d float16 gallery, {nq} queries: generated in {clock0.Elapsed.TotalSeconds:F0} s → {dataDir}");
}

using var gallery = GeoDataset.Open(Path.Combine(dataDir, "train"));
using var test = GeoDataset.Open(Path.Combine(dataDir, "test"));
var queries = test.Image;
nq = (int)Math.Min(nq, queries.Rows);

await using var server = await PrivatePostgres.StartAsync("shared_buffers=2GB", "max_connections=100");
await using var source = PgGallery.CreateDataSource(server.ConnectionString);
var push = await PgGalleryPush.PushAsync(source, gallery, new PgPushOptions { Table = "bench", MaintenanceWorkMemMB = 2048, ParallelWorkers = 1 });
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"push: {push.RowsAdded:N0} rows loaded in {push.LoadTime.TotalSeconds:F1} s ({push.RowsAdded / push.LoadTime.TotalSeconds:N0} rows/s), table {push.TableBytes / 1048576.0:F0} MB; HNSW (m 16, ef_construction 64) built in {push.IndexTime.TotalSeconds:F1} s, {push.IndexBytes / 1048576.0:F0} MB"));
var again = await PgGalleryPush.PushAsync(source, gallery, new PgPushOptions { Table = "bench" });
Console.WriteLine($"second push: {again.RowsAdded} rows added, {again.ChunksSkipped} chunks skipped in {again.LoadTime.TotalSeconds:F1} s");

var clock = Stopwatch.StartNew();
using var exact = ExactIndex.Create(gallery.Image);
var truth = exact.Search(queries, new SearchOptions { K = K });
Console.WriteLine($"ground truth (exact, all cores): {clock.Elapsed.TotalSeconds:F1} s");
exact.SearchDefaults = new SearchOptions { MaxDegreeOfParallelism = 1 };
clock.Restart();
using var cluster = ClusterIndex.Build(gallery.Image);
cluster.SearchDefaults = new SearchOptions { MaxDegreeOfParallelism = 1 };
Console.WriteLine($"cluster index built in {clock.Elapsed.TotalSeconds:F1} s");

var results = new List<Row>();
results.Add(await Measure("exact (in process)", "—", exact, 200));
results.Add(await Measure("cluster (in process)", "calibrated defaults", cluster, nq));
foreach (int ef in efs)
{
    await using var pg = await PgGallery.OpenAsync(source, "bench");
    pg.SearchDefaults = new PgSearchOptions { EfSearch = ef, Connections = 1, QueriesPerRoundTrip = 1 };
    results.Add(await Measure("pgvector HNSW", $"ef_search {ef}", pg, nq));
}

await using (var pgExact = await PgGallery.OpenAsync(source, "bench"))
{
    pgExact.SearchDefaults = new PgSearchOptions { Exact = true, Connections = 1, QueriesPerRoundTrip = 1 };
    results.Add(await Measure("pgvector exact scan", "—", pgExact, 100));
}

Console.WriteLine();
Console.WriteLine($"| engine | setting | recall@10 | {string.Join(" | ", clients.Select(c => $"q/s, {c} client{(c == 1 ? "" : "s")}"))} |");
Console.WriteLine($"|---|---|---:|{string.Concat(clients.Select(_ => "---:|"))}");
foreach (var r in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Engine} | {r.Setting} | {r.Recall:F3} | {string.Join(" | ", r.QueriesPerSecond.Select(q => q.ToString("N0", CultureInfo.InvariantCulture)))} |"));
}

Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
if (a.Get("json") is { } json) await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new { rows, dim, queries = nq, push, results }, new JsonSerializerOptions { WriteIndented = true }));
return 0;

// Recall@10 over the first n queries, and queries/s with each client count (every client sends one query per call).
async Task<Row> Measure(string engine, string setting, INeighborSearch search, int n)
{
    n = Math.Min(n, nq);
    var found = new long[n][];
    async Task RunAsync(int count, int c)
    {
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, c).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var r = await search.SearchAsync(new NeighborQueries { Vectors = queries, Start = i, Count = 1, K = K });
                found[i] = r.IndicesOf(0).ToArray();
            }
        })));
    }

    await RunAsync(Math.Min(n, 20), 1); // warm-up: connections, caches
    var qps = new List<double>();
    foreach (int c in clients)
    {
        var sw = Stopwatch.StartNew();
        await RunAsync(n, c);
        qps.Add(n / sw.Elapsed.TotalSeconds);
    }

    double hits = 0;
    for (int i = 0; i < n; i++)
    {
        var want = truth.IndicesOf(i).ToArray();
        hits += found[i].Count(want.Contains);
    }

    var row = new Row(engine, setting, hits / (n * (double)K), [.. qps], n);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{engine,-22} {setting,-20} recall@10 {row.Recall:F3}  q/s {string.Join(" / ", qps.Select(q => q.ToString("N0", CultureInfo.InvariantCulture)))}  ({n} queries)"));
    return row;
}

internal sealed record Row(string Engine, string Setting, double Recall, double[] QueriesPerSecond, int Queries);

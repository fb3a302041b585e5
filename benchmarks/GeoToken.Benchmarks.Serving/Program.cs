// Load test of geotoken serve (issue 18), bounded and on loopback only:
//
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Serving -- [--rows 20000] [--dim 512] [--requests 1000]
//       [--clients 1,4,16,64] [--galleries folder,postgresql,snapshot] [--soak 10000] [--soak-clients 16]
//       [--soak-galleries postgresql] [--restart 3000] [--max-concurrency 4] [--queue 16] [--data DIR]
//
// Generates a SynthGeo gallery (float16 image features) and a small random model, starts a private PostgreSQL 17 server
// (unix socket in a temporary folder) and pushes the gallery into it, then, per gallery, starts the service in a child
// process (this program with `serve-child`: GeoServer over GeoTokenPredictor on 127.0.0.1, port chosen by the system)
// and sends feature-vector requests from 1, 4, 16 and 64 concurrent clients, --requests per client count: p50/p99
// latency of the answered requests, answers/s, 503s. Galleries: `folder` (exact search in process), `postgresql` (HNSW
// in the database, neighbor rows read with each search), `snapshot` (HNSW in the database, neighbor rows from a local
// folder copy: --gallery-cache). The child reports its working set and GC heap every 250 ms; --soak N requests are sent
// to the services of --soak-galleries after the levels, with memory sampled along. --restart N: --soak-clients clients
// send requests to the postgresql service; after N / 3 PostgreSQL is restarted (pg_ctl stop -m fast, 2 s down, start)
// and the run goes on until N / 3 more requests have started after it is back: answered/refused counts before, during and
// after (by when each request started).
//
// A measurement, not a test: nothing is judged; the model is random, so the numbers are the serving stack's (HTTP, the
// concurrency limiter, retrieval, the database, a small decoder), not a real model's.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using GeoToken.Cli.Serving;
using GeoToken.Data;
using GeoToken.Model;
using GeoToken.Decoding;
using GeoToken.Prediction;
using GeoToken.Retrieval;
using GeoToken.Retrieval.PostgreSql.Tests;
using GeoToken.SynthGeo;
using GeoToken.Tokens;
using Microsoft.Extensions.Logging;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "serve-child") return await ServerChild.RunAsync(Args.Parse(args[1..]));

var a = Args.Parse(args);
long rows = a.Long("rows", 20_000);
int dim = (int)a.Long("dim", 512), requests = (int)a.Long("requests", 1000), soak = (int)a.Long("soak", 10_000), restart = (int)a.Long("restart", 3000);
int soakClients = (int)a.Long("soak-clients", 16), maxConcurrency = (int)a.Long("max-concurrency", 4), queue = (int)a.Long("queue", 16);
int[] clientCounts = a.Ints("clients", [1, 4, 16, 64]);
string[] galleries = (a.Get("galleries") ?? "folder,postgresql,snapshot").Split(',');
string[] soakGalleries = (a.Get("soak-galleries") ?? "postgresql").Split(',');
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average {LoadAverage()}");
Console.WriteLine($"command: GeoToken.Benchmarks.Serving {string.Join(' ', args)}");

string dataDir = a.Get("data") ?? Path.Combine(Path.GetTempPath(), $"geotoken-serve-bench-{rows}-{dim}");
if (!File.Exists(Path.Combine(dataDir, "train", "meta.csv")))
{
    await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = dataDir, TrainRows = rows, TestRows = 500, Dimension = dim, Modalities = 1, Seed = 7, ElementType = FeatureElementType.Float16 });
}

string model = Path.Combine(dataDir, "random-model.gtm");
if (!File.Exists(model))
{
    TorchSharp.torch.random.manual_seed(7);
    using var m = new GeoTokenModel(new GeoTokenModelOptions
    {
        ModelDimension = 64, HeadCount = 4, FeedForwardDimension = 128, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0,
        ModalityCount = 1, FeatureDimension = dim, NeighborCount = 15, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 },
    });
    GeoTokenModelFile.Save(m, model);
}

// Request bodies: one test image's features each, serialised once.
byte[][] bodies;
using (var test = GeoDataset.Open(Path.Combine(dataDir, "test")))
{
    bodies = new byte[test.Rows][];
    var f = new float[dim];
    for (int r = 0; r < bodies.Length; r++)
    {
        test.Image.ReadRow(r, f);
        bodies[r] = JsonSerializer.SerializeToUtf8Bytes(new { queries = new[] { new { id = $"test {r}", features = new[] { f } } } });
    }
}

Console.WriteLine($"gallery: SynthGeo {rows:N0} × {dim}-d float16; model: random, d 64, 2 + 2 layers, k = 15, pool greedy + 4 samples; service: --max-concurrency {maxConcurrency} --queue {queue}");
PrivatePostgres? pg = null;
string? cache = null;
if (galleries.Any(g => g != "folder"))
{
    pg = await PrivatePostgres.StartAsync("shared_buffers=512MB", "max_connections=200");
    await using var source = PgGallery.CreateDataSource(pg.ConnectionString);
    using var train = GeoDataset.Open(Path.Combine(dataDir, "train"));
    var push = await PgGalleryPush.PushAsync(source, train, new PgPushOptions { Table = "bench" });
    Console.WriteLine($"push: {push.RowsAdded:N0} rows in {push.LoadTime.TotalSeconds:F1} s, HNSW in {push.IndexTime.TotalSeconds:F1} s");
    cache = Directory.CreateTempSubdirectory("geotoken-serve-bench-cache-").FullName;
}

var table = new List<string>();
var memory = new List<string>();
try
{
    foreach (string gallery in galleries)
    {
        await using var child = await ServerProcess.StartAsync(gallery switch
        {
            "folder" => ["--gallery", Path.Combine(dataDir, "train")],
            "postgresql" => ["--connection", pg!.ConnectionString, "--table", "bench"],
            "snapshot" => ["--connection", pg!.ConnectionString, "--table", "bench", "--cache", cache!],
            _ => throw new ArgumentException($"--galleries: unknown gallery '{gallery}' (folder, postgresql, snapshot)."),
        }, model, maxConcurrency, queue);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = child.Address, Timeout = TimeSpan.FromMinutes(2) };
        await Load.RunAsync(http, bodies, 4, 100, null); // warm-up
        foreach (int c in clientCounts)
        {
            var r = await Load.RunAsync(http, bodies, c, requests, null);
            var mem = child.Latest;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"| {gallery} | {c} | {requests:N0} | {r.P(0.50):F1} | {r.P(0.99):F1} | {r.Answered / r.Seconds:F1} | {r.Busy} | {r.Failed} | {mem.WorkingSet / 1048576.0:F0} | {mem.Heap / 1048576.0:F0} | {LoadAverage()} |");
            Console.WriteLine(line);
            table.Add(line);
        }

        if (soak > 0 && soakGalleries.Contains(gallery))
        {
            child.StartCounting();
            var r = await Load.RunAsync(http, bodies, soakClients, soak, null, child);
            var samples = child.Counted;
            string at(double fraction)
            {
                var s = samples.Where(x => x.Done <= fraction * soak).DefaultIfEmpty(samples[0]).Last();
                return string.Create(CultureInfo.InvariantCulture, $"{s.WorkingSet / 1048576.0:F0} / {s.Heap / 1048576.0:F0}");
            }

            var late = samples.Where(x => x.Done >= 0.1 * soak).ToList();
            string line = string.Create(CultureInfo.InvariantCulture,
                $"| {gallery} | {soakClients} | {soak:N0} | {r.Answered:N0} / {r.Busy} / {r.Failed} | {at(0)} | {at(0.1)} | {at(0.5)} | {at(1)} | {late.Min(x => x.WorkingSet) / 1048576.0:F0}–{late.Max(x => x.WorkingSet) / 1048576.0:F0} | {late.Min(x => x.Heap) / 1048576.0:F0}–{late.Max(x => x.Heap) / 1048576.0:F0} | {LoadAverage()} |");
            Console.WriteLine(line);
            memory.Add(line);
        }

        if (restart > 0 && gallery == "postgresql")
        {
            int phase = 0;
            var driver = new Func<Load.Progress, Task>(async progress =>
            {
                await progress.WaitForAsync(restart / 3);
                Volatile.Write(ref phase, 1);
                var clock = Stopwatch.StartNew();
                await pg!.StopAsync("fast");
                await Task.Delay(2000);
                await pg.StartAgainAsync();
                Volatile.Write(ref phase, 2);
                Console.WriteLine($"PostgreSQL stopped after {restart / 3} requests and back after {clock.Elapsed.TotalSeconds:F1} s");
            });
            int after = 0;
            var r = await Load.RunAsync(http, bodies, soakClients, int.MaxValue, () => Volatile.Read(ref phase), restartDriver: driver,
                more: p => p != 2 || Interlocked.Increment(ref after) <= restart / 3);
            Console.WriteLine("| phase (by request start) | answered | 503 database | 503 busy | other failures | p50 ms | p99 ms |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (name, p) in new[] { ("before", 0), ("during", 1), ("after", 2) })
            {
                var s = r.Of(p);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {s.Answered:N0} | {s.DatabaseRefusals} | {s.Busy} | {s.Failed} | {s.P(0.5):F1} | {s.P(0.99):F1} |"));
            }

            Console.WriteLine($"error bodies seen: {string.Join(" ‖ ", r.Errors.Take(3))}");
        }
    }
}
finally
{
    if (pg is not null) await pg.DisposeAsync();
    if (cache is not null) Directory.Delete(cache, recursive: true);
}

Console.WriteLine();
Console.WriteLine("| gallery | clients | requests | p50 ms | p99 ms | answers/s | 503 | other failures | server working set MB | GC heap MB | load average |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
table.ForEach(Console.WriteLine);
if (memory.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("| gallery | clients | requests | answered / 503 / failed | MB at start (working set / GC heap) | at 10 % | at 50 % | at 100 % | working set range after 10 % | GC heap range after 10 % | load average |");
    Console.WriteLine("|---|---:|---:|---|---|---|---|---|---|---|---|");
    memory.ForEach(Console.WriteLine);
}

return 0;

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

/// <summary>Sends requests from concurrent clients and records what came back.</summary>
internal static class Load
{
    /// <summary>Requests done so far, awaitable.</summary>
    internal sealed class Progress
    {
        private int _done;

        public int Done => Volatile.Read(ref _done);

        public void Add() => Interlocked.Increment(ref _done);

        public async Task WaitForAsync(int count)
        {
            while (Done < count) await Task.Delay(10);
        }
    }

    internal sealed record Outcome(int Phase, HttpStatusCode? Status, double Milliseconds, bool Database);

    internal sealed class Result(IReadOnlyList<Outcome> outcomes, double seconds, IReadOnlyList<string> errors)
    {
        private readonly double[] _latencies = [.. outcomes.Where(o => o.Status == HttpStatusCode.OK).Select(o => o.Milliseconds).Order()];

        public double Seconds { get; } = seconds;

        public IReadOnlyList<string> Errors { get; } = errors;

        public int Answered => _latencies.Length;

        public int Busy => outcomes.Count(o => o.Status == HttpStatusCode.ServiceUnavailable && !o.Database);

        public int DatabaseRefusals => outcomes.Count(o => o.Status == HttpStatusCode.ServiceUnavailable && o.Database);

        public int Failed => outcomes.Count(o => o.Status is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable));

        public double P(double q) => _latencies.Length == 0 ? double.NaN : _latencies[Math.Min(_latencies.Length - 1, (int)Math.Ceiling(q * _latencies.Length) - 1)];

        public Result Of(int phase) => new([.. outcomes.Where(o => o.Phase == phase)], Seconds, Errors);
    }

    /// <summary>
    /// Sends <paramref name="requests"/> requests from <paramref name="clients"/> clients (each waits for its answer before
    /// the next), while <paramref name="more"/> (given the phase at the start of a request) allows.
    /// </summary>
    public static async Task<Result> RunAsync(HttpClient http, byte[][] bodies, int clients, int requests, Func<int>? phase, ServerProcess? counter = null, Func<Progress, Task>? restartDriver = null, Func<int, bool>? more = null)
    {
        int next = -1;
        var progress = new Progress();
        var outcomes = new ConcurrentQueue<Outcome>();
        var errors = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        var driver = restartDriver?.Invoke(progress) ?? Task.CompletedTask;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                int p = phase?.Invoke() ?? 0;
                if (more is not null && !more(p)) break;
                var sw = Stopwatch.StartNew();
                HttpStatusCode? status = null;
                bool database = false;
                try
                {
                    using var content = new ByteArrayContent(bodies[i % bodies.Length]);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync("/predict", content);
                    string text = await response.Content.ReadAsStringAsync();
                    status = response.StatusCode;
                    if (status != HttpStatusCode.OK)
                    {
                        database = text.Contains("database", StringComparison.Ordinal);
                        if (errors.Count < 20) errors.Enqueue($"{(int)status.Value} {text.ReplaceLineEndings(" ")}");
                    }
                }
                catch (HttpRequestException e)
                {
                    if (errors.Count < 20) errors.Enqueue(e.Message);
                }

                outcomes.Enqueue(new Outcome(p, status, sw.Elapsed.TotalMilliseconds, database));
                progress.Add();
                counter?.SetDone(progress.Done);
            }
        })));
        double seconds = clock.Elapsed.TotalSeconds;
        await driver;
        return new Result([.. outcomes], seconds, [.. errors]);
    }
}

/// <summary>The service in a child process (this program with <c>serve-child</c>), reporting its memory on standard output.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    internal readonly record struct Sample(int Done, long WorkingSet, long Heap);

    private readonly Process _process;
    private readonly List<Sample> _counted = [];
    private int _done;
    private bool _counting;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public Sample Latest { get; private set; }

    public List<Sample> Counted
    {
        get
        {
            lock (_counted) return [.. _counted];
        }
    }

    public void StartCounting()
    {
        lock (_counted)
        {
            _counted.Clear();
            _counted.Add(Latest);
            _counting = true;
        }
    }

    public void SetDone(int done) => Volatile.Write(ref _done, done);

    public static async Task<ServerProcess> StartAsync(string[] gallery, string model, int maxConcurrency, int queue)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = false };
        psi.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
        foreach (var s in (string[])["serve-child", "--model", model, "--max-concurrency", maxConcurrency.ToString(CultureInfo.InvariantCulture), "--queue", queue.ToString(CultureInfo.InvariantCulture), .. gallery]) psi.ArgumentList.Add(s);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the service");
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("listening ", StringComparison.Ordinal))
        {
            Console.WriteLine($"  service: {line}");
        }

        if (line is null) throw new InvalidOperationException("the service exited before listening");
        var server = new ServerProcess(process, new Uri(line["listening ".Length..]));
        _ = Task.Run(server.ReadSamplesAsync);
        return server;
    }

    private async Task ReadSamplesAsync()
    {
        string? line;
        while ((line = await _process.StandardOutput.ReadLineAsync()) is not null)
        {
            var parts = line.Split(' ');
            if (parts[0] != "mem") continue;
            var s = new Sample(Volatile.Read(ref _done), long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
            Latest = s;
            lock (_counted)
            {
                if (_counting) _counted.Add(s);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close(); // the child stops when its standard input closes
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}

/// <summary>The child: GeoServer over a predictor on 127.0.0.1 (port chosen by the system); memory every 250 ms; stops when standard input closes.</summary>
internal static class ServerChild
{
    public static async Task<int> RunAsync(Args a)
    {
        PgGallery? gallery = null;
        string? folder = a.Get("gallery");
        if (a.Get("connection") is { } connection)
        {
            gallery = await PgGallery.OpenAsync(new PgGalleryAddress { ConnectionString = connection, Table = a.Get("table")! });
            if (a.Get("cache") is { } cache)
            {
                (folder, long rows) = await PgGalleryExport.SnapshotAsync(gallery, cache);
                gallery.SearchDefaults = new PgSearchOptions { RowLimit = rows };
            }
        }

        try
        {
            using var predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions
            {
                ModelPath = a.Get("model")!,
                Runtimes = [TorchGeoTokenRuntime.Cpu],
                GalleryDirectory = folder,
                NeighborSearch = gallery,
                Pool = new CandidatePoolOptions { Samples = 4 },
            });
            var options = new GeoServerOptions { Port = 0, MaxConcurrentRequests = (int)a.Long("max-concurrency", 4), QueueLength = (int)a.Long("queue", 16) };
            await using var server = GeoServer.Create(options, predictor, encoder: null, l => l.SetMinimumLevel(LogLevel.None));
            await server.StartAsync();
            Console.WriteLine($"listening {server.Address}");
            var stdin = Task.Run(() => Console.In.ReadToEnd());
            while (!stdin.IsCompleted)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mem {Environment.WorkingSet} {GC.GetGCMemoryInfo().HeapSizeBytes}"));
                await Task.WhenAny(stdin, Task.Delay(250));
            }

            return 0;
        }
        finally
        {
            if (gallery is not null) await gallery.DisposeAsync();
        }
    }
}

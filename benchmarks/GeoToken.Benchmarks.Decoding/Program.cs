// Decoding benchmark of GeoToken.Model (TorchSharp, KV cache), the .NET half of
// benchmarks/peers/run_decoding_peer.sh; benchmarks/peers/decoding_reference.py is the PyTorch half
// (the paper's reference algorithm: no cache, every prefix re-decoded at every step).
//
//   prepare --config paper|small|tiny [--layout paper|compact] [--copy on|off] --images N --out DIR [--seed S]
//       writes DIR/model (a model folder: random weights, dropout off; neighbor-copy head off unless --copy on, as the
//       reference algorithm has none) and DIR/inputs.bin (N synthetic queries)
//   decode --dir DIR --mode beam5|pool --batch B [--images N] [--warmup W] [--threads T]
//       times beam search (width 5) or the 31-candidate pool (greedy + 30 samples, T = 0.7) over the
//       first N images in batches of B; prints one JSON line (per-image latency, images/s, top tokens)
//   rss --config tiny|small|paper [--layout L] --mode beam5|pool --batch B --images N [--report R]
//       decodes N images (inputs regenerated per batch) and prints the process RSS every R images
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.Model;
using GeoToken.Decoding;
using GeoToken.IO;
using GeoToken.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 0) return Usage();
var opts = ParseOptions(args.Skip(1));
try
{
    return args[0] switch
    {
        "prepare" => Prepare(opts),
        "decode" => Decode(opts),
        "rss" => Rss(opts),
        "profile" => Profile(opts),
        _ => Usage(),
    };
}
catch (Exception e) when (e is ArgumentException or KeyNotFoundException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: prepare --config paper|small|tiny [--layout paper|compact] --images N --out DIR [--seed S]");
    Console.Error.WriteLine("       decode --dir DIR --mode beam5|pool --batch B [--images N] [--warmup W] [--threads T]");
    Console.Error.WriteLine("       rss --config tiny|small|paper [--layout L] --mode beam5|pool --batch B --images N [--report R] [--threads T]");
    return 2;
}

static Dictionary<string, string> ParseOptions(IEnumerable<string> args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    string? key = null;
    foreach (var a in args)
    {
        if (a.StartsWith("--", StringComparison.Ordinal)) key = a[2..];
        else if (key is not null) { result[key] = a; key = null; }
        else throw new ArgumentException($"Unexpected argument '{a}'.");
    }

    return result;
}

static string Get(Dictionary<string, string> o, string name, string? fallback = null) =>
    o.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required.");

static int Int(Dictionary<string, string> o, string name, string? fallback = null) => int.Parse(Get(o, name, fallback), CultureInfo.InvariantCulture);

static GeoTokenModelOptions ModelOptions(Dictionary<string, string> o)
{
    // The reference algorithm (decoding_reference.py, as released) has no neighbor-copy head: off by default here too.
    var options = GeoTokenModelOptions.FromPreset(Get(o, "config")) with { Dropout = 0, NeighborCopy = Get(o, "copy", "off") == "on" };
    if (o.TryGetValue("layout", out var layout)) options = options with { ContextLayout = Enum.Parse<ContextLayout>(layout, ignoreCase: true) };
    return options;
}

static int Prepare(Dictionary<string, string> o)
{
    var options = ModelOptions(o);
    int images = Int(o, "images");
    ulong seed = ulong.Parse(Get(o, "seed", "1"), CultureInfo.InvariantCulture);
    string dir = Get(o, "out");
    Directory.CreateDirectory(dir);
    random.manual_seed((long)seed);
    using (var model = new GeoTokenModel(options)) GeoTokenModelFile.Save(model, Path.Combine(dir, "model"));
    var source = new SyntheticBatchSource(options, images, seed, learnable: false);
    using var all = source.ReadBatch(Enumerable.Range(0, images).ToArray());
    TensorFile.Write(Path.Combine(dir, "inputs.bin"), new JsonObject { ["kind"] = "decoding-inputs" },
        [("query", all.QueryFeatures), ("neighbors", all.NeighborFeatures), ("neighbor_tokens", all.NeighborTokens)]);
    Console.Error.WriteLine($"prepared {dir}: {options.ContextLayout} layout ({options.ContextLength} encoder positions), d={options.ModelDimension}, {options.EncoderLayers}+{options.DecoderLayers} layers, {images} images");
    return 0;
}

static int Decode(Dictionary<string, string> o)
{
    string dir = Get(o, "dir");
    string mode = Get(o, "mode");
    int batchSize = Int(o, "batch");
    int warmup = Int(o, "warmup", "1");
    int threads = Int(o, "threads", "2");
    torch.set_num_threads(threads);

    using var model = GeoTokenModelFile.Load(Path.Combine(dir, "model"));
    model.eval();
    var contents = TensorFile.ReadHeader(Path.Combine(dir, "inputs.bin"));
    var data = TensorFile.ReadTensors(contents, ["query", "neighbors", "neighbor_tokens"]);
    int available = (int)data["query"].shape[0];
    int images = Math.Min(Int(o, "images", available.ToString(CultureInfo.InvariantCulture)), available);
    var search = new GeoTokenSearch(model);
    var pool = new CandidatePoolBuilder(model, new CandidatePoolOptions { Greedy = true, Samples = 30, Temperature = 0.7, Seed = 1 });

    GeoTokenBatch Slice(int start, int count) => new(
        data["query"].narrow(0, start, count).clone(),
        data["neighbors"].narrow(0, start, count).clone(),
        data["neighbor_tokens"].narrow(0, start, count).clone());

    List<int[]> RunBatch(int start, int count)
    {
        using var batch = Slice(start, count);
        if (mode == "beam5") return search.BeamSearch(batch, new BeamSearchOptions { Width = 5, CommitLevel = null }).Select(b => b[0].Tokens.ToArray()).ToList();
        if (mode == "pool")
        {
            var pools = pool.Build(batch, Enumerable.Range(start, count).Select(i => (long)i).ToArray());
            // The greedy candidate is first in every pool.
            return pools.Select(p => p[0].Tokens!.ToArray()).ToList();
        }

        throw new ArgumentException($"Unknown mode '{mode}' (beam5, pool).");
    }

    for (int i = 0; i < warmup; i++) RunBatch(0, Math.Min(batchSize, images));
    var times = new List<double>();
    var top = new List<int[]>();
    for (int start = 0; start + batchSize <= images; start += batchSize)
    {
        long t0 = Stopwatch.GetTimestamp();
        top.AddRange(RunBatch(start, batchSize));
        times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
    }

    if (times.Count == 0) throw new ArgumentException($"--images {images} is fewer than one batch of {batchSize}.");
    double total = times.Sum();
    var sorted = times.Order().ToArray();
    double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    Console.WriteLine(JsonSerializer.Serialize(new JsonObject
    {
        ["framework"] = $"torchsharp {typeof(torch).Assembly.GetName().Version} (libtorch {torch.__version__}), KV cache",
        ["threads"] = torch.get_num_threads(),
        ["mode"] = mode,
        ["batch_size"] = batchSize,
        ["images"] = times.Count * batchSize,
        ["seconds"] = total,
        ["seconds_per_image"] = total / (times.Count * batchSize),
        ["median_batch_seconds"] = median,
        ["images_per_second"] = times.Count * batchSize / total,
        ["context_length"] = model.Options.ContextLength,
        ["parameters"] = model.ParameterCount,
        ["top"] = new JsonArray(top.Take(16).Select(t => (JsonNode)new JsonArray(t.Select(x => (JsonNode)x).ToArray())).ToArray()),
    }));
    foreach (var t in data.Values) t.Dispose();
    return 0;
}

static int Rss(Dictionary<string, string> o)
{
    var options = ModelOptions(o);
    string mode = Get(o, "mode");
    int batchSize = Int(o, "batch");
    int images = Int(o, "images");
    int report = Int(o, "report", "1000");
    torch.set_num_threads(Int(o, "threads", "2"));
    random.manual_seed(1);
    using var model = new GeoTokenModel(options);
    model.eval();
    var search = new GeoTokenSearch(model);
    var pool = new CandidatePoolBuilder(model);
    var source = new SyntheticBatchSource(options, Math.Max(batchSize, 64), 1, learnable: false);
    long candidates = 0;
    var clock = Stopwatch.StartNew();
    for (int done = 0; done < images; done += batchSize)
    {
        var rows = Enumerable.Range(0, batchSize).Select(i => (done + i) % source.Count).ToArray();
        using var batch = source.ReadBatch(rows);
        if (mode == "beam5") candidates += search.BeamSearch(batch, new BeamSearchOptions { Width = 5, CommitLevel = null }).Sum(b => b.Count);
        else candidates += pool.Build(batch, rows.Select(r => (long)(done + r)).ToArray()).Sum(p => p.Count);
        int now = done + batchSize;
        if (now % report == 0 || now >= images)
        {
            using var proc = Process.GetCurrentProcess();
            Console.WriteLine(JsonSerializer.Serialize(new JsonObject
            {
                ["images"] = now,
                ["rss_mb"] = Math.Round(proc.WorkingSet64 / 1048576.0, 1),
                ["managed_mb"] = Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1),
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["candidates"] = candidates,
            }));
        }
    }

    return 0;
}

static int Profile(Dictionary<string, string> o)
{
    string dir = Get(o, "dir");
    torch.set_num_threads(Int(o, "threads", "2"));
    using var model = GeoTokenModelFile.Load(Path.Combine(dir, "model"));
    model.eval();
    var contents = TensorFile.ReadHeader(Path.Combine(dir, "inputs.bin"));
    var data = TensorFile.ReadTensors(contents, ["query", "neighbors", "neighbor_tokens"]);
    int rowsPer = Int(o, "rows", "5");
    for (int rep = 0; rep < 3; rep++)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var batch = new GeoTokenBatch(data["query"].narrow(0, 0, 1).clone(), data["neighbors"].narrow(0, 0, 1).clone(), data["neighbor_tokens"].narrow(0, 0, 1).clone());
        long t0 = Stopwatch.GetTimestamp();
        var memory = model.Encode(batch);
        double enc = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        t0 = Stopwatch.GetTimestamp();
        using var cache = model.BeginDecoding(memory);
        double kv = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        cache.Expand(rowsPer);
        var steps = new List<double>();
        Tensor? prev = null;
        for (int p = 0; p < model.Options.SequenceLength; p++)
        {
            t0 = Stopwatch.GetTimestamp();
            var l = cache.StepLogits(prev);
            prev = l.argmax(1);
            steps.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        Console.WriteLine($"encode {enc:F3}s  memory K/V {kv:F3}s  steps {string.Join(" ", steps.Select(x => x.ToString("F3")))}");
    }

    return 0;
}

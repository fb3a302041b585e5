// Training-throughput benchmark of GeoToken.Model (TorchSharp), the .NET half of
// benchmarks/peers/run_training_peer.sh; benchmarks/peers/geotoken_torch.py is the PyTorch half.
//
//   prepare --config small|paper [--layout paper|compact] [--copy on|off] --batch-size B --batches K --out DIR [--seed S]
//       writes DIR/model (a model folder: initial weights) and DIR/batches.bin (K synthetic batches)
//   train --dir DIR [--steps N] [--warmup W] [--threads T]
//       times N optimizer steps (after W untimed ones) cycling over the batches; prints one JSON line
//   memory --data DIR [--preset small] [--batch-size B] [--seconds S] [--threads T]
//       trains on a dataset folder from disk (memory-mapped features, shuffled batches, prefetch) for S seconds and
//       prints one JSON line with the peak private (anonymous) memory, which excludes the page cache of the mapped
//       feature files. Neighbors are random gallery rows written to a neighbor file first: which rows they are
//       does not change what training holds in memory, and exact 15-NN of millions of rows takes far longer.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.Model;
using GeoToken.Data;
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
        "train" => Train(opts),
        "memory" => Memory(opts),
        _ => Usage(),
    };
}
catch (Exception e) when (e is ArgumentException or KeyNotFoundException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static int Memory(Dictionary<string, string> o)
{
    string dir = Get(o, "data");
    int batchSize = int.Parse(Get(o, "batch-size", "256"), CultureInfo.InvariantCulture);
    double seconds = double.Parse(Get(o, "seconds", "120"), CultureInfo.InvariantCulture);
    torch.set_num_threads(int.Parse(Get(o, "threads", "2"), CultureInfo.InvariantCulture));
    long startAnon = AnonymousKb();
    using var data = GeoToken.Data.GeoDataset.Open(dir);
    var options = GeoTokenModelOptions.FromPreset(Get(o, "preset", "small")) with { ModalityCount = data.Modalities.Count, FeatureDimension = data.Dimension };
    string prefix = Path.Combine(Path.GetTempPath(), $"geotoken-memory-{Environment.ProcessId}");
    var clock = Stopwatch.StartNew();
    using (var writer = new GeoToken.Retrieval.NeighborFileWriter(prefix))
    {
        int k = options.NeighborCount;
        writer.Begin(data.Rows, k);
        var rng = new Random(1);
        const int Chunk = 65536;
        var ids = new long[Chunk * k];
        var sims = new float[Chunk * k];
        for (long q = 0; q < data.Rows; q += Chunk)
        {
            int n = (int)Math.Min(Chunk, data.Rows - q);
            for (int i = 0; i < n * k; i++) (ids[i], sims[i]) = (rng.NextInt64(data.Rows), 1f - i % k * 0.01f);
            writer.Write(q, ids.AsSpan(0, n * k), sims.AsSpan(0, n * k));
        }

        writer.Complete();
    }

    double neighborSeconds = clock.Elapsed.TotalSeconds;
    using var neighbors = GeoToken.Retrieval.NeighborFile.Open(prefix);
    var tokens = TokenTable.Build(data, new GeoToken.Tokens.GeoTokenizer(options.Tokenizer));
    var source = new DatasetBatchSource(data, data, neighbors, tokens, tokens, options);
    random.manual_seed(1);
    using var model = new GeoTokenModel(options);
    using var trainer = new GeoTokenTrainer(model, new GeoTokenTrainerOptions { Epochs = 1, BatchSize = batchSize, LearningRate = 1e-3, MaxDuration = TimeSpan.FromSeconds(seconds), ProgressEverySteps = 5 });
    long peakAnon = AnonymousKb();
    var samples = new List<long>();
    var progress = new SyncProgress<TrainingProgress>(_ =>
    {
        long a = AnonymousKb();
        samples.Add(a);
        peakAnon = Math.Max(peakAnon, a);
    });
    clock.Restart();
    var result = trainer.Train(source, progress);
    double trainSeconds = clock.Elapsed.TotalSeconds;
    File.Delete(prefix + "_I.npy");
    File.Delete(prefix + "_D.npy");
    var json = new JsonObject
    {
        ["rows"] = data.Rows,
        ["modalities"] = options.ModalityCount,
        ["dimension"] = options.FeatureDimension,
        ["feature_bytes_on_disk"] = data.Modalities.Sum(m => new FileInfo(data.GetFeaturePath(m)).Length),
        ["preset"] = Get(o, "preset", "small"),
        ["batch_size"] = batchSize,
        ["steps"] = result.GlobalStep,
        ["train_seconds"] = trainSeconds,
        ["samples_per_second"] = result.GlobalStep * batchSize / trainSeconds,
        ["neighbor_file_seconds"] = neighborSeconds,
        ["anon_kb_at_start"] = startAnon,
        ["anon_kb_first_report"] = samples.Count > 0 ? samples[0] : null,
        ["anon_kb_last_report"] = samples.Count > 0 ? samples[^1] : null,
        ["peak_anon_kb"] = peakAnon,
        ["peak_anon_gb"] = peakAnon / 1048576.0,
        ["vm_hwm_kb"] = StatusKb("VmHWM"),
    };
    Console.WriteLine(json.ToJsonString());
    return 0;
}

// Private memory: anonymous resident pages (heap, native tensors), excluding file-backed pages of memory maps.
static long AnonymousKb() => StatusKb("RssAnon");

static long StatusKb(string field)
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith(field + ":", StringComparison.Ordinal)) return long.Parse(line.AsSpan(field.Length + 1).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    throw new InvalidOperationException($"/proc/self/status has no {field} (Linux only).");
}

static int Usage()
{
    Console.Error.WriteLine("usage: prepare --config small|paper [--layout paper|compact] [--copy on|off] --batch-size B --batches K --out DIR [--seed S]");
    Console.Error.WriteLine("       train --dir DIR [--steps N] [--warmup W] [--threads T]");
    Console.Error.WriteLine("       memory --data DIR [--preset small] [--batch-size B] [--seconds S] [--threads T]");
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

static int Prepare(Dictionary<string, string> o)
{
    var options = GeoTokenModelOptions.FromPreset(Get(o, "config"));
    if (o.TryGetValue("layout", out var layout)) options = options with { ContextLayout = Enum.Parse<ContextLayout>(layout, ignoreCase: true) };
    if (o.TryGetValue("copy", out var copy)) options = options with { NeighborCopy = copy == "on" };
    int batchSize = int.Parse(Get(o, "batch-size"), CultureInfo.InvariantCulture);
    int batches = int.Parse(Get(o, "batches", "4"), CultureInfo.InvariantCulture);
    ulong seed = ulong.Parse(Get(o, "seed", "1"), CultureInfo.InvariantCulture);
    string dir = Get(o, "out");
    Directory.CreateDirectory(dir);

    random.manual_seed((long)seed);
    using (var model = new GeoTokenModel(options)) GeoTokenModelFile.Save(model, Path.Combine(dir, "model"));

    var source = new SyntheticBatchSource(options, batchSize * batches, seed, learnable: true);
    var list = new List<GeoTokenBatch>();
    var tensors = new List<(string, Tensor)>();
    for (int i = 0; i < batches; i++)
    {
        var b = source.ReadBatch(Enumerable.Range(i * batchSize, batchSize).ToArray());
        list.Add(b);
        tensors.Add(($"batch{i}.query", b.QueryFeatures));
        tensors.Add(($"batch{i}.neighbors", b.NeighborFeatures));
        tensors.Add(($"batch{i}.neighbor_tokens", b.NeighborTokens));
        tensors.Add(($"batch{i}.targets", b.TargetTokens!));
    }

    TensorFile.Write(Path.Combine(dir, "batches.bin"), new JsonObject { ["kind"] = "batches" }, tensors);
    foreach (var b in list) b.Dispose();
    Console.Error.WriteLine($"prepared {dir}: {options.ContextLayout} layout, d={options.ModelDimension}, {options.EncoderLayers}+{options.DecoderLayers} layers, {batches} batches of {batchSize}");
    return 0;
}

static int Train(Dictionary<string, string> o)
{
    string dir = Get(o, "dir");
    int steps = int.Parse(Get(o, "steps", "10"), CultureInfo.InvariantCulture);
    int warmup = int.Parse(Get(o, "warmup", "2"), CultureInfo.InvariantCulture);
    int threads = int.Parse(Get(o, "threads", "2"), CultureInfo.InvariantCulture);
    torch.set_num_threads(threads);

    using var model = GeoTokenModelFile.Load(Path.Combine(dir, "model"));
    var contents = TensorFile.ReadHeader(Path.Combine(dir, "batches.bin"));
    var data = TensorFile.ReadTensors(contents, contents.Tensors.Keys);
    int count = contents.Tensors.Keys.Count(k => k.EndsWith(".query", StringComparison.Ordinal));
    var batches = Enumerable.Range(0, count)
        .Select(i => new GeoTokenBatch(data[$"batch{i}.query"], data[$"batch{i}.neighbors"], data[$"batch{i}.neighbor_tokens"], data[$"batch{i}.targets"]))
        .ToList();

    // The paper's optimizer settings; no warm-up, no clipping (as the PyTorch side).
    using var trainer = new GeoTokenTrainer(model, new GeoTokenTrainerOptions { LearningRate = 5e-5, WeightDecay = 1e-6, Seed = 1 });
    for (int i = 0; i < warmup; i++) trainer.TrainStep(batches[i % count]);
    var times = new double[steps];
    var losses = new double[steps];
    for (int i = 0; i < steps; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        losses[i] = trainer.TrainStep(batches[i % count]);
        times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    int b = batches[0].Count;
    double total = times.Sum();
    var sorted = times.Order().ToArray();
    Console.WriteLine(JsonSerializer.Serialize(new JsonObject
    {
        ["framework"] = $"torchsharp {typeof(torch).Assembly.GetName().Version} (libtorch {torch.__version__})",
        ["threads"] = torch.get_num_threads(),
        ["batch_size"] = b,
        ["steps"] = steps,
        ["seconds"] = total,
        ["samples_per_second"] = b * steps / total,
        ["median_step_seconds"] = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2,
        ["mean_loss"] = losses.Average(),
        ["parameters"] = model.ParameterCount,
    }));
    foreach (var batch in batches) batch.Dispose();
    return 0;
}

/// <summary>Reports on the calling thread.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

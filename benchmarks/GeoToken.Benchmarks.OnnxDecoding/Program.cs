// Decoding speed, side by side: the exported ONNX graphs on ONNX Runtime (OnnxGeoTokenSearch) against TorchSharp's cached
// search (GeoTokenSearch / CandidatePoolBuilder) on the same random model and inputs, for each search: greedy, beam search
// of width 5 (two-stage, the default) and the 31-candidate pool (greedy + 30 samples at T = 0.7); `encode` times the
// encoder alone (the part of every search that runs once per batch). Both runtimes run the
// same search algorithm (TokenSearch); only the model's steps differ.
//
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.OnnxDecoding -- [--presets small,paper] [--batches 1,64]
//       [--searches encode,greedy,beam5,pool31] [--threads 1] [--rounds 7]
//
// The two runtimes alternate round by round (ORT, Torch, ORT, …) so a busy machine's load falls on both alike. Prints a
// Markdown table: median milliseconds per batch (encode + search; after one warm-up round each), and TorchSharp / ONNX
// Runtime. Timings only: nothing is asserted.
using System.Diagnostics;
using System.Globalization;
using GeoToken.Model;
using GeoToken.Decoding;
using GeoToken.Onnx.Export;
using GeoToken.Onnx.Inference;
using GeoToken.Tokens;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string[] presets = opts.GetValueOrDefault("presets", "small,paper").Split(',');
int[] batches = opts.GetValueOrDefault("batches", "1,64").Split(',').Select(int.Parse).ToArray();
int threads = int.Parse(opts.GetValueOrDefault("threads", "1"), CultureInfo.InvariantCulture);
int rounds = int.Parse(opts.GetValueOrDefault("rounds", "7"), CultureInfo.InvariantCulture);
set_num_threads(threads);

string[] searches = opts.GetValueOrDefault("searches", "greedy,beam5,pool31").Split(',');
Console.WriteLine($"threads {threads}, {rounds} timed rounds per side after 1 warm-up each, sides alternating; median ms per batch (encode + search)");
Console.WriteLine();
Console.WriteLine("| preset | search | batch | ONNX Runtime ms | TorchSharp ms | TorchSharp / ORT |");
Console.WriteLine("|---|---|---:|---:|---:|---:|");

foreach (string preset in presets)
{
    var options = GeoTokenModelOptions.FromPreset(preset) with { Dropout = 0 };
    random.manual_seed(1);
    using var model = new GeoTokenModel(options);
    model.eval();
    string dir = Path.Combine(Path.GetTempPath(), "geotoken-onnx-bench-" + Guid.NewGuid().ToString("N"));
    GeoTokenOnnxExporter.Export(model, dir);
    try
    {
        using var onnx = new OnnxGeoTokenModel(dir, new OnnxGeoTokenModelOptions { IntraOpThreads = threads });
        var torchSearch = new GeoTokenSearch(model);
        var torchPool = new CandidatePoolBuilder(model);
        var ortSearch = new OnnxGeoTokenSearch(onnx);
        foreach (string name in searches)
        {
            foreach (int b in batches)
            {
                using var batch = RandomBatch(options, b);
                float[] q = batch.QueryFeatures.data<float>().ToArray(), nf = batch.NeighborFeatures.data<float>().ToArray();
                long[] nt = batch.NeighborTokens.data<long>().ToArray();
                Action ort = name switch
                {
                    "greedy" => () => { using var st = onnx.Encode(q, nf, nt, b); ortSearch.Greedy(st); },
                    "beam5" => () => { using var st = onnx.Encode(q, nf, nt, b); ortSearch.BeamSearch(st, new BeamSearchOptions { Width = 5 }); },
                    "pool31" => () => { using var st = onnx.Encode(q, nf, nt, b); ortSearch.BuildPools(st); },
                    "encode" => () => { using var st = onnx.Encode(q, nf, nt, b); },
                    _ => throw new ArgumentException($"Unknown search '{name}' (encode, greedy, beam5, pool31)."),
                };
                Action torchRun = name switch
                {
                    "greedy" => () => torchSearch.Greedy(batch),
                    "beam5" => () => torchSearch.BeamSearch(batch, new BeamSearchOptions { Width = 5 }),
                    "encode" => () => { using var e = model.EncodeBatch(batch); },
                    _ => () => torchPool.Build(batch),
                };
                var (ortMs, torchMs) = Alternating(rounds, ort, torchRun);
                Console.WriteLine($"| {preset} | {name} | {b} | {ortMs:F1} | {torchMs:F1} | {torchMs / ortMs:F2}× |");
            }
        }
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

return 0;

static (double A, double B) Alternating(int rounds, Action a, Action b)
{
    a();
    b();
    var ta = new double[rounds];
    var tb = new double[rounds];
    for (int i = 0; i < rounds; i++)
    {
        var sw = Stopwatch.StartNew();
        a();
        ta[i] = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        b();
        tb[i] = sw.Elapsed.TotalMilliseconds;
    }

    Array.Sort(ta);
    Array.Sort(tb);
    return (ta[rounds / 2], tb[rounds / 2]);
}

static GeoTokenBatch RandomBatch(GeoTokenModelOptions o, int b)
{
    using var g = new Generator(2);
    var vocab = new GeoTokenizer(o.Tokenizer).VocabularySizes.ToArray();
    using var scope = NewDisposeScope();
    var tokens = cat(vocab.Select(v => randint(v, [b, o.NeighborCount, 1], generator: g, dtype: ScalarType.Int64)).ToArray(), -1);
    return new GeoTokenBatch(
        randn([b, o.ModalityCount, o.FeatureDimension], generator: g).MoveToOuterDisposeScope(),
        randn([b, o.NeighborCount, o.ModalityCount, o.FeatureDimension], generator: g).MoveToOuterDisposeScope(),
        tokens.MoveToOuterDisposeScope());
}

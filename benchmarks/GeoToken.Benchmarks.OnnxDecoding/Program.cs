// Greedy decoding speed: the exported ONNX graphs on ONNX Runtime (OnnxGeoTokenModel: encode + one cached step per
// position) against TorchSharp's cached greedy (GeoTokenSearch.Greedy) on the same random model and inputs.
//
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.OnnxDecoding -- [--presets tiny,small] [--batches 1,64]
//       [--threads 1] [--rounds 7]
//
// Prints one line per preset and batch size: median milliseconds per batch of each runtime (after one warm-up round)
// and the ratio TorchSharp / ONNX Runtime. Timings only: nothing is asserted.
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
string[] presets = opts.GetValueOrDefault("presets", "tiny,small").Split(',');
int[] batches = opts.GetValueOrDefault("batches", "1,64").Split(',').Select(int.Parse).ToArray();
int threads = int.Parse(opts.GetValueOrDefault("threads", "1"), CultureInfo.InvariantCulture);
int rounds = int.Parse(opts.GetValueOrDefault("rounds", "7"), CultureInfo.InvariantCulture);
set_num_threads(threads);
Console.WriteLine($"threads {threads}, {rounds} timed rounds after 1 warm-up, median ms per batch (encode + greedy over all positions)");

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
        var search = new GeoTokenSearch(model);
        foreach (int b in batches)
        {
            using var batch = RandomBatch(options, b);
            float[] q = batch.QueryFeatures.data<float>().ToArray(), nf = batch.NeighborFeatures.data<float>().ToArray();
            long[] nt = batch.NeighborTokens.data<long>().ToArray();
            double ort = Median(rounds, () =>
            {
                using var state = onnx.Encode(q, nf, nt, b);
                OnnxGreedy.Decode(onnx, state);
            });
            double torchMs = Median(rounds, () => search.Greedy(batch));
            Console.WriteLine($"{preset,-6} batch {b,3}: ONNX Runtime {ort,8:F2} ms, TorchSharp {torchMs,8:F2} ms, TorchSharp/ORT {torchMs / ort,5:F2}×");
        }
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

return 0;

static double Median(int rounds, Action run)
{
    run();
    var times = new double[rounds];
    for (int i = 0; i < rounds; i++)
    {
        var sw = Stopwatch.StartNew();
        run();
        times[i] = sw.Elapsed.TotalMilliseconds;
    }

    Array.Sort(times);
    return times[rounds / 2];
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

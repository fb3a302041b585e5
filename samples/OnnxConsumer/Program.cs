// Runs a GeoToken model exported with `geotoken export onnx` on ONNX Runtime alone (GeoToken + GeoToken.Onnx; no
// TorchSharp, no libtorch): retrieves each query's neighbors in the gallery, encodes, and decodes greedily.
// usage: OnnxConsumer EXPORT_DIR GALLERY_DATASET QUERY_DATASET [QUERIES]
using System.Diagnostics;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Onnx.Inference;
using GeoToken.Retrieval;
using GeoToken.Tokens;

if (args.Length is < 3 or > 4)
{
    Console.Error.WriteLine("usage: OnnxConsumer EXPORT_DIR GALLERY_DATASET QUERY_DATASET [QUERIES]");
    return 2;
}

int queries = args.Length == 4 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20;
using var model = new OnnxGeoTokenModel(args[0]);
var shape = model.Config.Model;
var tokenizer = new GeoTokenizer(shape.Tokenizer);
using var gallery = GeoDataset.Open(args[1]);
using var test = GeoDataset.Open(args[2]);
queries = (int)Math.Min(queries, test.Rows);

using var index = NeighborIndex.Open(gallery.Image, indexPath: null);
var neighbors = index.Search(test.Image, new SearchOptions { K = shape.NeighborCount });
var errors = new List<double>();
double? firstMs = null;
for (int q = 0; q < queries; q++)
{
    var tokens = OnnxGreedy.Decode(model, gallery, test, q, neighbors.IndicesOf(q), out var logSumExp);
    // Each step's output is a log-softmax: its probabilities sum to 1 up to float32 rounding (~1e-6 over ≤ 16 entries).
    if (logSumExp.Any(x => !(Math.Abs(x) <= 1e-4)))
    {
        Console.Error.WriteLine($"OnnxConsumer: query row {q}: a decoder step's probabilities do not sum to 1 (log of the sums: {string.Join(", ", logSumExp)}).");
        return 1;
    }

    var predicted = tokenizer.DecodeCenter(tokens);
    firstMs ??= (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
    errors.Add(Geodesy.HaversineKm(predicted, test.GetLocation(q)));
}

errors.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ONNX consumer: {queries} queries, k={shape.NeighborCount}, {model.SequenceLength} greedy steps each; median error {errors[errors.Count / 2]:F0} km; first prediction {firstMs:F0} ms after process start"));
return 0;

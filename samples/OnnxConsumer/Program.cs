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
int m = shape.ModalityCount, d = shape.FeatureDimension, k = shape.NeighborCount, t = model.SequenceLength;

using var index = NeighborIndex.Open(gallery.Image, indexPath: null);
var neighbors = index.Search(test.Image, new SearchOptions { K = k });
var errors = new List<double>();
double? firstMs = null;
var tokens = new int[t];
var neighborTokens = new int[t];
for (int q = 0; q < queries; q++)
{
    var query = new float[m * d];
    var context = new float[k * m * d];
    var contextTokens = new long[k * t];
    var row = neighbors.IndicesOf(q);
    for (int mod = 0; mod < m; mod++)
    {
        test.GetFeatures((FeatureModality)mod).ReadRow(q, query.AsSpan(mod * d, d));
        for (int j = 0; j < k; j++) gallery.GetFeatures((FeatureModality)mod).ReadRow(row[j], context.AsSpan((j * m + mod) * d, d));
    }

    for (int j = 0; j < k; j++)
    {
        gallery.GetTokens(row[j], tokenizer, neighborTokens);
        for (int p = 0; p < t; p++) contextTokens[j * t + p] = neighborTokens[p];
    }

    // Greedy: the most likely token at every position (first on ties).
    var state = model.Encode(query, context, contextTokens, batch: 1);
    long[] previous = [];
    for (int p = 0; p < t; p++)
    {
        var logProbs = model.Step(state, previous);
        int best = 0;
        for (int v = 1; v < logProbs.GetLength(1); v++) if (logProbs[0, v] > logProbs[0, best]) best = v;
        tokens[p] = best;
        previous = [best];
    }

    var predicted = tokenizer.DecodeCenter(tokens);
    firstMs ??= (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
    errors.Add(Geodesy.HaversineKm(predicted, test.GetLocation(q)));
}

errors.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ONNX consumer: {queries} queries, k={k}, {t} greedy steps each; median error {errors[errors.Count / 2]:F0} km; first prediction {firstMs:F0} ms after process start"));
return 0;

// Locates test queries with a GeoToken model exported by `geotoken export onnx`, on ONNX Runtime alone (packages
// GeoToken + GeoToken.Onnx; no TorchSharp, no libtorch): the same predictor as with TorchSharp — neighbors from the
// gallery, the candidate pool, the consensus reranker, an uncertainty radius and the nearest place — with the ONNX
// runtime chosen by the model given.
// usage: OnnxConsumer EXPORT_DIR GALLERY_DATASET QUERY_DATASET [QUERIES]
using System.Diagnostics;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Onnx.Inference;
using GeoToken.Prediction;

if (args.Length is < 3 or > 4)
{
    Console.Error.WriteLine("usage: OnnxConsumer EXPORT_DIR GALLERY_DATASET QUERY_DATASET [QUERIES]");
    return 2;
}

int count = args.Length == 4 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20;
using var predictor = GeoTokenPredictor.Open(new GeoTokenPredictorOptions
{
    ModelPath = args[0],
    Runtimes = [OnnxGeoTokenRuntime.Default],
    GalleryDirectory = args[1],
    Pool = new CandidatePoolOptions { Samples = 10 },
});
using var test = GeoDataset.Open(args[2]);
count = (int)Math.Min(count, test.Rows);
var queries = new List<GeoQuery>(count);
for (int q = 0; q < count; q++)
{
    var features = new float[test.Dimension];
    test.Image.ReadRow(q, features);
    queries.Add(GeoQuery.FromImageFeatures(features, $"row {q + 1}"));
}

double firstMs = 0;
var errors = new List<double>();
for (int q = 0; q < count; q++)
{
    var p = await predictor.PredictAsync(queries[q]);
    if (q == 0) firstMs = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
    var best = p.Locations[0];
    // Every answer is a real place with a score and a radius: a failed prediction must never pass as (0, 0).
    if (!(Math.Abs(best.Position.Latitude) <= 90 && Math.Abs(best.Position.Longitude) <= 180 && double.IsFinite(best.Score) && best.LogProbability <= 0 && p.UncertaintyKm >= 0 && best.Place is not null))
    {
        Console.Error.WriteLine($"OnnxConsumer: {queries[q].Id}: answer {best.Position} (score {best.Score}, log p {best.LogProbability}, radius {p.UncertaintyKm} km, place {best.Place?.Name ?? "none"}) is not a usable prediction.");
        return 1;
    }

    errors.Add(Geodesy.HaversineKm(best.Position, test.GetLocation(q)));
}

errors.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"ONNX consumer: {count} queries on {predictor.Runtime} (k = {predictor.Model.NeighborCount}, pool of greedy + 10 samples, consensus); median error {errors[errors.Count / 2]:F0} km; first prediction {firstMs:F0} ms after process start"));
return 0;

// Proves the NuGet packages work on their own, each with a check that can fail (exit 1, naming it):
//   GeoToken             S2 cells and the tokenizer;
//   GeoToken.SynthGeo    a tiny SynthGeo dataset;
//   GeoToken.Model       a few training steps on TorchSharp (with the application's libtorch package);
//   GeoToken.Onnx.Export the trained model exported to ONNX; the predictor runs it on ONNX Runtime (GeoToken.Onnx);
//   GeoToken.Reports     a map as PNG;
//   GeoToken.AI          the MLLM judge over the application's own IChatClient;
//   GeoToken.Retrieval.PostgreSql  addresses; with a server (GEOTOKEN_CONSUMER_PG=<connection string>), push and search;
//   GeoToken.Hosting     services.AddGeoToken and the one-call GeoLocator on real photos.
// usage: PackageConsumer            the whole tour
//        PackageConsumer --probe    only TorchRuntime.EnsureAvailable() (the pack check runs it without libtorch)
using System.Globalization;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Model.Training;
using GeoToken.Onnx.Export;
using GeoToken.Onnx.Inference;
using GeoToken.Prediction;
using GeoToken.Reports.Plots;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.SynthGeo;
using GeoToken.Tokens;

if (args is ["--probe"])
{
    try
    {
        TorchRuntime.EnsureAvailable();
        Console.WriteLine("libtorch available");
        return 0;
    }
    catch (LibTorchNotFoundException e)
    {
        Console.WriteLine(e.Message);
        return 3;
    }
}

var ct = CancellationToken.None;
var clock = System.Diagnostics.Stopwatch.StartNew();
void Say(string line) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,5:F1} s] {line}"));
string dir = Path.Combine(Path.GetTempPath(), "geotoken-package-consumer-" + Environment.ProcessId);
try
{
    // GeoToken: a level-20 cell and its 11 tokens, which decode back into that cell (≈ 10 m).
    var eiffel = new LatLng(48.8584, 2.2945);
    var cell = S2CellId.FromLatLng(48.8584, 2.2945).Parent(20);
    var tokenizer = new GeoTokenizer();
    var tokens = tokenizer.Encode(48.8584, 2.2945);
    Expect.That(S2CellId.FromToken(cell.ToToken()) == cell && cell.Level == 20, $"S2: token {cell.ToToken()} does not round-trip");
    Expect.That(tokens.Length == 11 && S2CellId.FromLatLng(tokenizer.DecodeCenter(tokens)).Parent(20) == cell, $"tokens [{string.Join(",", tokens)}] do not decode into {cell.ToToken()}");
    Say($"S2 token {cell.ToToken()}, GeoTokens [{string.Join(",", tokens)}]");

    var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = dir, TrainRows = 300, TestRows = 20, Dimension = 32 }, cancellationToken: ct);
    using (var train = GeoDataset.Open(synth.TrainDirectory))
    {
        Expect.That(synth.TrainRows == 300 && synth.TestRows == 20 && train.Rows == 300 && train.Dimension == 32, $"SynthGeo: {synth.TrainRows}/{synth.TestRows} rows, the dataset has {train.Rows} of {train.Dimension}-d");
    }

    Say($"SynthGeo: {synth.TrainRows} training rows, {synth.TestRows} test rows");

    var run = await TrainingRun.RunAsync(new TrainingRunOptions
    {
        TrainDirectory = synth.TrainDirectory,
        ValidationDirectory = synth.TestDirectory,
        OutputPath = Path.Combine(dir, "tiny"), // a model folder: config.json + model.safetensors
        Preset = "tiny",
        Trainer = new GeoTokenTrainerOptions { Epochs = 1, BatchSize = 100, LearningRate = 5e-4 },
    }, cancellationToken: ct);
    var v = run.Training.Validations[^1].Metrics;
    Expect.That(run.ParameterCount > 0 && File.Exists(Path.Combine(run.ModelPath, "config.json")) && v.Acc2500Km is >= 0 and <= 100, $"training: {run.ParameterCount} parameters, model at {run.ModelPath}, validation {v.Acc2500Km}%");
    Say($"trained {run.ParameterCount:N0} parameters; greedy validation: {v.Acc2500Km:F1}% within 2500 km");

    Say(await ExportTour(run.ModelPath, synth, Path.Combine(dir, "onnx"), ct));

    byte[] png = PredictionMapPlot.RenderPng("package consumer", [eiffel], [new LatLng(45.76, 4.84)]);
    Expect.That(png.Length > 1000 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), $"map: {png.Length} bytes, not a PNG");
    Say($"map (GeoToken.Reports): {png.Length:N0} bytes of PNG");

    Say(await JudgeTour.RunAsync(run.ModelPath, synth, ct));
    Say(await PostgresTour.RunAsync(Environment.GetEnvironmentVariable("GEOTOKEN_CONSUMER_PG") is { Length: > 0 } pg ? pg : null, run.ModelPath, synth, ct));
    Say(await LocatorTour.RunAsync(dir, ct));
    Say($"PackageConsumer: {Expect.Passed} checks passed over all 9 library packages");
    return 0;
}
catch (ConsumerCheckException e)
{
    Console.Error.WriteLine($"PackageConsumer: FAILED: {e.Message}");
    return 1;
}
finally
{
    if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
}

// GeoToken.Onnx.Export writes the ONNX graphs; the predictor runs them on ONNX Runtime (GeoToken.Onnx) and the
// TorchSharp model on TorchSharp, choosing the runtime from the model it is given.
static async Task<string> ExportTour(string modelPath, SynthGeoResult synth, string onnxDir, CancellationToken ct)
{
    using (var model = GeoTokenModelFile.Load(modelPath))
    {
        model.eval();
        GeoTokenOnnxExporter.Export(model, onnxDir, cancellationToken: ct);
    }

    IGeoTokenRuntime[] runtimes = [TorchGeoTokenRuntime.Cpu, OnnxGeoTokenRuntime.Default];
    GeoTokenPredictor Open(string path) => GeoTokenPredictor.Open(new GeoTokenPredictorOptions
    {
        ModelPath = path,
        Runtimes = runtimes,
        GalleryDirectory = synth.TrainDirectory,
        Pool = new CandidatePoolOptions { Samples = 6 },
        Reranker = new LogProbReranker(),
    }, ct);
    using var torch = Open(modelPath);
    using var onnx = Open(onnxDir);
    Expect.That(torch.Runtime == "TorchSharp" && onnx.Runtime == "ONNX Runtime", $"runtimes chosen: {torch.Runtime} for {modelPath}, {onnx.Runtime} for {onnxDir}");
    Expect.That(onnx.Model.SequenceLength == torch.Model.SequenceLength && onnx.Model.FeatureDimension == torch.Model.FeatureDimension && onnx.Model.NeighborCount == torch.Model.NeighborCount,
        $"ONNX export: {onnx.Model.Description}; the model: {torch.Model.Description}");
    using var test = GeoDataset.Open(synth.TestDirectory);
    const int Queries = 5;
    var queries = Enumerable.Range(0, Queries).Select(q =>
    {
        var f = new float[test.Dimension];
        test.Image.ReadRow(q, f);
        return GeoQuery.FromImageFeatures(f, $"test {q}");
    }).ToArray();
    var a = await torch.PredictAsync(queries, ct);
    var b = await onnx.PredictAsync(queries, ct);
    int same = 0;
    for (int q = 0; q < Queries; q++)
    {
        var (t, o) = (a[q].Locations[0], b[q].Locations[0]);
        Expect.That(Math.Abs(o.Position.Latitude) <= 90 && Math.Abs(o.Position.Longitude) <= 180 && o.LogProbability <= 0 && b[q].UncertaintyKm >= 0, $"ONNX prediction, query {q}: {o.Position}, log p {o.LogProbability}, radius {b[q].UncertaintyKm} km");
        if (t.CellToken == o.CellToken) same++;
    }

    return string.Create(CultureInfo.InvariantCulture, $"ONNX export (GeoToken.Onnx.Export) predicted on ONNX Runtime (GeoToken.Onnx) and on TorchSharp: {Queries} queries, the same best cell for {same} of them");
}

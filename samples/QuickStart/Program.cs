// GeoToken.NET quick start: simulate a geolocation benchmark, train a tiny GeoToken model on it, compare the
// test-time strategies, and locate a few images with place names and a calibrated uncertainty radius.
//
//   dotnet run -c Release --project samples/QuickStart [-- --out DIR] [--train-seconds S]
//
// Everything runs offline on the data embedded in the library (real MP16 photo density, real IM2GPS3K test
// locations, GeoNames places). About 4 minutes on 2 CPU cores.
using System.Diagnostics;
using System.Globalization;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Decoding;
using GeoToken.Prediction;
using GeoToken.Model.Training;
using GeoToken.SynthGeo;
using Spectre.Console;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 110);
string outDir = Path.GetFullPath(Arg("--out") ?? Path.Combine("out", "quickstart"));
double trainSeconds = double.Parse(Arg("--train-seconds") ?? "150", CultureInfo.InvariantCulture);
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var ct = cts.Token;
var clock = Stopwatch.StartNew();

// 1. A SynthGeo benchmark: 30,000 gallery/training images spread like MP16's 4.7M photos, 600 test images at real
//    IM2GPS3K locations; 256-d CLIP-like embeddings (docs/synthgeo.md says what they do and do not model).
AnsiConsole.MarkupLine("[bold]1. SynthGeo[/]: 30,000 gallery images (MP16 density), 600 test images (IM2GPS3K locations)");
var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions
{
    OutputDirectory = Path.Combine(outDir, "synthgeo"),
    TrainRows = 30_000,
    TestRows = 600,
    Dimension = 256,
    Seed = 7,
}, cancellationToken: ct);

// 2. Train the tiny preset (compact context: one encoder position per neighbor) with k = 15 retrieved neighbors.
//    The neighbor files are computed and cached on the way; training stops at the time limit.
AnsiConsole.MarkupLine($"[bold]2. Training[/] the tiny model for up to {trainSeconds:F0} s (k = 15 neighbors from the gallery, none from the image's own series)");
string modelPath = Path.Combine(outDir, "tiny"); // a model folder: config.json + model.safetensors
var training = await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
{
    var bar = ctx.AddTask("training");
    var progress = new Progress<TrainingRunProgress>(p =>
    {
        bar.Description = p.Training is { } t ? $"{p.Stage} epoch {t.Epoch + 1}, loss {t.Loss:F3}" : p.Stage;
        bar.MaxValue = Math.Max(1, p.Total);
        bar.Value = Math.Min(p.Done, bar.MaxValue);
    });
    return await TrainingRun.RunAsync(new TrainingRunOptions
    {
        TrainDirectory = synth.TrainDirectory,
        OutputPath = modelPath,
        Preset = "tiny",
        // A training image's neighbors never come from its own photo series: test photos have no series-mates in
        // the gallery, so the model must not learn to trust near-duplicates it will not see at test time.
        Neighbors = new GeoToken.Retrieval.NeighborCacheOptions { GroupColumn = "SERIES" },
        Trainer = new GeoTokenTrainerOptions { Epochs = 8, BatchSize = 128, LearningRate = 1e-3, LearningRateDecay = 0.8, Seed = 1, MaxDuration = TimeSpan.FromSeconds(trainSeconds) },
    }, progress, ct);
});
AnsiConsole.MarkupLine($"   {training.ParameterCount:N0} parameters, {training.Training.GlobalStep:N0} steps in {training.TrainingElapsed.TotalSeconds:F0} s → {Markup.Escape(modelPath)}");

// 3. Every strategy side by side on the first 300 test images. The uncertainty radius is calibrated on them too.
AnsiConsole.MarkupLine("[bold]3. Test-time strategies[/] on 300 test images (the pool: greedy + 30 samples at T = 0.7)");
var evaluation = await EvaluationRun.RunAsync(new EvaluationRunOptions
{
    ModelPath = modelPath,
    Runtimes = [TorchGeoTokenRuntime.Cpu],
    GalleryDirectory = synth.TrainDirectory,
    QueryDirectory = synth.TestDirectory,
    MaxQueries = 300,
}, cancellationToken: ct);
var table = new Table().Border(TableBorder.Rounded).AddColumn("strategy");
foreach (var t in GeoMetrics.StandardThresholdsKm) table.AddColumn(new TableColumn($"≤{t} km").RightAligned());
table.AddColumn(new TableColumn("median km").RightAligned()).AddColumn(new TableColumn("ms/img").RightAligned());
foreach (var s in evaluation.Strategies)
{
    table.AddRow([s.Name, .. s.Metrics.Accuracies.Select(a => $"{a:F1}%"), $"{s.Metrics.MedianKm:F0}", s.MillisecondsPerImage is { } ms ? $"{ms:F1}" : "—"]);
}

AnsiConsole.Write(table);
AnsiConsole.MarkupLine("   knn = the most similar gallery image's location; oracle = the pool's best candidate (headroom, not a strategy).");

// 4. The predictor API on held-out test images (300–599): ranked answers, nearest place, calibrated radius.
AnsiConsole.MarkupLine("[bold]4. Predictions[/] for held-out test images (GeoTokenPredictor, consensus reranker)");
using var predictor = GeoTokenPredictor.Open(new GeoTokenPredictorOptions
{
    ModelPath = modelPath,
    Runtimes = [TorchGeoTokenRuntime.Cpu],
    GalleryDirectory = synth.TrainDirectory,
    Calibration = evaluation.UncertaintyCalibration,
}, ct);
using var test = GeoToken.Data.GeoDataset.Open(synth.TestDirectory);
var rows = Enumerable.Range(300, 300).ToArray();
var queries = rows.Select(r =>
{
    var f = new float[test.Dimension];
    test.Image.ReadRow(r, f);
    return GeoQuery.FromImageFeatures(f, test.GetImageId(r));
}).ToArray();
var predictions = await predictor.PredictAsync(queries, ct);
var shown = new Table().Border(TableBorder.Rounded).AddColumns("image", "prediction", "nearest place", "90% radius", "truth", "error");
int covered = 0;
for (int i = 0; i < predictions.Count; i++)
{
    var p = predictions[i];
    var truth = test.GetLocation(rows[i]);
    double error = Geodesy.HaversineKm(p.Best.Position, truth);
    if (error <= p.UncertaintyKm) covered++;
    if (i < 8)
    {
        var place = p.Best.Place!;
        var truthPlace = GeoToken.Places.GeoNamesCities.Default.Nearest(truth);
        shown.AddRow(Markup.Escape(p.Id ?? ""), $"{p.Best.Position.Latitude:F2}, {p.Best.Position.Longitude:F2}", Markup.Escape($"{place.Name}, {place.CountryCode}"),
            p.UncertaintyKm >= GeoToken.Uncertainty.RadiusCalibration.WholeEarthKm ? "whole Earth" : $"{p.UncertaintyKm:F0} km", Markup.Escape($"{truthPlace.Name}, {truthPlace.CountryCode}"), $"{error:F0} km");
    }
}

AnsiConsole.Write(shown);
var calibration = evaluation.UncertaintyCalibration;
AnsiConsole.MarkupLine($"   The 90% radius ({Markup.Escape(calibration.ToString())}, fitted on test images 0–299)");
AnsiConsole.MarkupLine($"   held the truth for {covered} of {predictions.Count} held-out images ({100.0 * covered / predictions.Count:F0}%).");
AnsiConsole.MarkupLine($"[bold]Done[/] in {clock.Elapsed.TotalMinutes:F1} min. Next: the geotoken CLI (train --preset small, eval --report, predict), see README.md.");
return 0;

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

// Proves the NuGet packages work on their own: S2 + tokenizer (GeoToken), a tiny SynthGeo dataset
// (GeoToken.SynthGeo), a few training steps and greedy decoding (GeoToken.Model on TorchSharp), ONNX export and a
// reload on ONNX Runtime (GeoToken.Onnx.Export, GeoToken.Onnx), a map (GeoToken.Reports on SkiaSharp) and the judge's
// options (GeoToken.AI).
// usage: PackageConsumer            the whole tour
//        PackageConsumer --probe    only TorchRuntime.EnsureAvailable() (the pack check runs it without libtorch)
using GeoToken.AI.Judging;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Model.Training;
using GeoToken.Onnx.Export;
using GeoToken.Onnx.Inference;
using GeoToken.Reports.Plots;
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

var cell = S2CellId.FromLatLng(48.8584, 2.2945).Parent(20);
var tokens = new GeoTokenizer().Encode(48.8584, 2.2945);
Console.WriteLine($"S2 token {cell.ToToken()}, GeoTokens [{string.Join(",", tokens)}]");

string dir = Path.Combine(Path.GetTempPath(), "geotoken-package-consumer-" + Environment.ProcessId);
try
{
    var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = dir, TrainRows = 300, TestRows = 20, Dimension = 32 });
    Console.WriteLine($"SynthGeo: {synth.TrainRows} training rows, {synth.TestRows} test rows");

    var run = await TrainingRun.RunAsync(new TrainingRunOptions
    {
        TrainDirectory = synth.TrainDirectory,
        ValidationDirectory = synth.TestDirectory,
        OutputPath = Path.Combine(dir, "tiny"), // a model folder: config.json + model.safetensors
        Preset = "tiny",
        Trainer = new GeoTokenTrainerOptions { Epochs = 1, BatchSize = 100, LearningRate = 5e-4 },
    });
    var v = run.Training.Validations[^1].Metrics;
    Console.WriteLine($"trained {run.ParameterCount:N0} parameters; greedy validation: {v.Acc2500Km:F1}% within 2500 km");

    using var model = GeoTokenModelFile.Load(run.ModelPath);
    model.eval();
    string onnxDir = Path.Combine(dir, "onnx");
    GeoTokenOnnxExporter.Export(model, onnxDir);
    using var onnx = new OnnxGeoTokenModel(onnxDir);
    Console.WriteLine($"ONNX export reopened on ONNX Runtime: {onnx.SequenceLength} positions, {model.Options.EncoderLayers}+{model.Options.DecoderLayers} layers");

    byte[] png = PredictionMapPlot.RenderPng("package consumer", [new LatLng(48.8584, 2.2945)], [new LatLng(45.76, 4.84)]);
    Console.WriteLine($"map: {png.Length:N0} bytes of PNG; judge default mode {new MllmJudgeOptions().Mode}");
    return 0;
}
finally
{
    if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
}

// Proves the NuGet packages work on their own: S2 + tokenizer (GeoToken), a tiny SynthGeo dataset
// (GeoToken.SynthGeo), a few training steps and greedy decoding (GeoToken.Model on TorchSharp).
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Model.Training;
using GeoToken.SynthGeo;
using GeoToken.Tokens;

var cell = S2CellId.FromLatLng(48.8584, 2.2945).Parent(20);
var tokens = new GeoTokenizer().Encode(48.8584, 2.2945);
Console.WriteLine($"S2 token {cell.ToToken()}, GeoTokens [{string.Join(",", tokens)}]");

string dir = Path.Combine(Path.GetTempPath(), "geotoken-package-consumer-" + Environment.ProcessId);
var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = dir, TrainRows = 2000, TestRows = 100, Dimension = 64 });
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
Console.WriteLine($"reloaded model: {model.Options.EncoderLayers}+{model.Options.DecoderLayers} layers, {model.Tokenizer.Length} tokens");
Directory.Delete(dir, recursive: true);

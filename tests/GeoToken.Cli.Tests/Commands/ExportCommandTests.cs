using GeoToken.Model;
using GeoToken.Onnx.Inference;
using static TorchSharp.torch;

namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken export onnx</c>.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Export_onnx_writes_a_folder_the_runtime_opens_and_refuses_to_overwrite()
    {
        random.manual_seed(1);
        var options = GeoTokenModelOptions.Tiny with { FeatureDimension = 16, NeighborCount = 3 };
        string modelPath = Path.Combine(_dir, "tiny.geotoken");
        using (var model = new GeoTokenModel(options)) GeoTokenModelFile.Save(model, modelPath);
        string outDir = Path.Combine(_dir, "onnx");

        var export = await CliRunner.RunAsync("export", "onnx", "--model", modelPath, "--out", outDir);
        Assert.True(export.ExitCode == 0, export.Error);
        Assert.Contains("opset 17", export.Output);
        using (var onnx = new OnnxGeoTokenModel(outDir))
        {
            Assert.Equal(128, onnx.Config.Model.ModelDimension);
            Assert.True(onnx.Config.Model.NeighborCopy);
            Assert.Equal(options.SequenceLength, onnx.SequenceLength);
        }

        var again = await CliRunner.RunAsync("export", "onnx", "--model", modelPath, "--out", outDir);
        Assert.Equal(1, again.ExitCode); // the files are in the way (OutputFile)
        Assert.Contains("--force", again.Error);
        var forced = await CliRunner.RunAsync("export", "onnx", "--model", modelPath, "--out", outDir, "--force");
        Assert.True(forced.ExitCode == 0, forced.Error);

        var missing = await CliRunner.RunAsync("export", "onnx", "--model", Path.Combine(_dir, "absent.geotoken"), "--out", Path.Combine(_dir, "other"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("absent.geotoken", missing.Error);
    }
}

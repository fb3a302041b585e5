using GeoToken.IO;
using GeoToken.Model;
using GeoToken.Model.Import;
using static TorchSharp.torch;

namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken import reference</c> and <c>geotoken export pytorch</c> through the real command tree.</summary>
public sealed class ReferenceCommandsTests
{
    [Fact]
    public async Task Import_and_export_round_trip_and_refuse_to_overwrite_without_force()
    {
        string dir = CliRunner.TempDir();
        var options = GeoTokenModelOptions.Paper with { ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 1, DecoderLayers = 1 };
        random.manual_seed(7);
        using var original = new GeoTokenModel(options);
        string pth = Path.Combine(dir, "reference.pth");
        using (var state = ReferenceCheckpoint.Export(original)) PyTorchCheckpoint.Write(pth, state);

        string modelPath = Path.Combine(dir, "imported.gtm");
        var import = await CliRunner.RunAsync("import", "reference", "--checkpoint", pth, "--out", modelPath, "--heads", "4");
        Assert.True(import.ExitCode == 0, import.Error);
        Assert.Contains("d 32, 4 heads, ff 64, 1 + 1 layers, 3 views of 768, k 15", import.Output, StringComparison.Ordinal);
        Assert.Contains("ignored (unused by the reference's forward pass): similarity_embedding.weight", import.Output, StringComparison.Ordinal);
        using (var imported = GeoTokenModelFile.Load(modelPath))
        {
            var a = original.state_dict();
            var b = imported.state_dict();
            Assert.Equal(a.Keys, b.Keys);
            foreach (var (name, t) in a) Assert.True(t.equal(b[name]).all().item<bool>(), $"{name} changed");
        }

        long written = new FileInfo(modelPath).Length;
        var again = await CliRunner.RunAsync("import", "reference", "--checkpoint", pth, "--out", modelPath, "--heads", "4");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Error, StringComparison.Ordinal);
        Assert.Equal(written, new FileInfo(modelPath).Length);
        var forced = await CliRunner.RunAsync("import", "reference", "--checkpoint", pth, "--out", modelPath, "--heads", "4", "--force");
        Assert.True(forced.ExitCode == 0, forced.Error);

        var wrongHeads = await CliRunner.RunAsync("import", "reference", "--checkpoint", pth, "--out", Path.Combine(dir, "x.gtm"), "--heads", "5");
        Assert.Equal(1, wrongHeads.ExitCode);
        Assert.Contains("not divisible by 5 heads", wrongHeads.Error, StringComparison.Ordinal);

        string back = Path.Combine(dir, "back.pth");
        var export = await CliRunner.RunAsync("export", "pytorch", "--model", modelPath, "--out", back);
        Assert.True(export.ExitCode == 0, export.Error);
        using (var x = PyTorchCheckpoint.Read(pth, cancellationToken: TestContext.Current.CancellationToken))
        using (var y = PyTorchCheckpoint.Read(back, cancellationToken: TestContext.Current.CancellationToken))
        {
            Assert.Equal(x.Keys, y.Keys);
            foreach (var (name, t) in x) Assert.True(t.equal(y[name]).all().item<bool>(), $"{name} changed through import and export");
        }

        var exportAgain = await CliRunner.RunAsync("export", "pytorch", "--model", modelPath, "--out", back);
        Assert.Equal(1, exportAgain.ExitCode);
        Assert.Contains("--force", exportAgain.Error, StringComparison.Ordinal);
    }
}

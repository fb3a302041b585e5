using GeoToken.Model;
using GeoToken.Tokens;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken convert</c>: an old .gtm file becomes a model folder with the same weights; outputs are never clobbered or left half-written.</summary>
public sealed class ConvertCommandTests
{
    private static readonly GeoTokenModelOptions Options = new()
    {
        ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 1, DecoderLayers = 1,
        ModalityCount = 1, FeatureDimension = 16, NeighborCount = 3, Tokenizer = new GeoTokenizerOptions { Level = 10, GroupSize = 2 },
    };

    private static GeoTokenModel NewModel(long seed)
    {
        random.manual_seed(seed);
        return new GeoTokenModel(Options);
    }

    private static void AssertSameWeights(GeoTokenModel expected, string path)
    {
        using var loaded = GeoTokenModelFile.Load(path);
        var a = expected.state_dict();
        var b = loaded.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, t) in a) Assert.True(t.equal(b[name]).all().item<bool>(), name);
    }

    [Fact]
    public async Task A_gtm_file_becomes_a_model_folder_and_an_existing_output_needs_force()
    {
        string dir = CliRunner.TempDir();
        string gtm = Path.Combine(dir, "old.gtm"), folder = Path.Combine(dir, "new");
        using var first = NewModel(3);
        GeoTokenModelFile.Save(first, gtm);

        var r = await CliRunner.RunAsync("convert", "--model", gtm, "--out", folder);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("model folder", r.Output);
        Assert.True(File.Exists(Path.Combine(folder, "config.json")) && File.Exists(Path.Combine(folder, "model.safetensors")));
        AssertSameWeights(first, folder);
        AssertSameWeights(first, Path.Combine(folder, "config.json"));

        using var second = NewModel(4);
        GeoTokenModelFile.Save(second, gtm);
        byte[] before = await File.ReadAllBytesAsync(Path.Combine(folder, "model.safetensors"), TestContext.Current.CancellationToken);
        r = await CliRunner.RunAsync("convert", "--model", gtm, "--out", folder);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("exists; pass --force", r.Error);
        Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(folder, "model.safetensors"), TestContext.Current.CancellationToken));

        r = await CliRunner.RunAsync("convert", "--model", gtm, "--out", folder, "--force");
        Assert.True(r.ExitCode == 0, r.Error);
        AssertSameWeights(second, folder);

        // Back to one file works too.
        r = await CliRunner.RunAsync("convert", "--model", folder, "--out", Path.Combine(dir, "again.gtm"));
        Assert.True(r.ExitCode == 0, r.Error);
        AssertSameWeights(second, Path.Combine(dir, "again.gtm"));
    }

    [Fact]
    public async Task A_corrupt_model_is_refused_and_leaves_no_output()
    {
        string dir = CliRunner.TempDir();
        string gtm = Path.Combine(dir, "bad.gtm"), folder = Path.Combine(dir, "out");
        using (var model = NewModel(5)) GeoTokenModelFile.Save(model, gtm);
        byte[] bytes = await File.ReadAllBytesAsync(gtm, TestContext.Current.CancellationToken);
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), float.NaN); // the last weight's last element
        await File.WriteAllBytesAsync(gtm, bytes, TestContext.Current.CancellationToken);

        // The container's data checksum catches the changed bytes before anything else reads them.
        var r = await CliRunner.RunAsync("convert", "--model", gtm, "--out", folder);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("SHA-256", r.Error);
        Assert.Contains(gtm, r.Error);
        Assert.Equal([gtm], Directory.GetFileSystemEntries(dir));

        // Written with a NaN (a checksum that agrees): the finiteness check refuses it.
        using (var model = NewModel(5))
        {
            using (TorchSharp.torch.no_grad()) model.state_dict()["heads.0.bias"].fill_(float.NaN);
            GeoTokenModelFile.Save(model, gtm);
        }

        r = await CliRunner.RunAsync("convert", "--model", gtm, "--out", folder);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("non-finite", r.Error);
        Assert.Contains(gtm, r.Error);
        Assert.Equal([gtm], Directory.GetFileSystemEntries(dir));

        r = await CliRunner.RunAsync("convert", "--model", Path.Combine(dir, "missing"), "--out", folder);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("neither a model folder", r.Error);
        Assert.Equal([gtm], Directory.GetFileSystemEntries(dir));
    }
}

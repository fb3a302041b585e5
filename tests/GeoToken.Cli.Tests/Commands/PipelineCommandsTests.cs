using System.Text.Json;

namespace GeoToken.Cli.Tests.Commands;

/// <summary>synth → index → retrieve → train through the real command tree, on a small SynthGeo set.</summary>
public sealed class PipelineCommandsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Synth_index_retrieve_and_train_work_together()
    {
        string dir = CliRunner.TempDir();
        var synth = await CliRunner.RunAsync("synth", "--out", dir, "--train", "3000", "--test", "200", "--dim", "64", "--seed", "3");
        Assert.True(synth.ExitCode == 0, synth.Error);
        Assert.True(File.Exists(Path.Combine(dir, "train", "image.npy")));

        string index = Path.Combine(dir, "train.gtci");
        var idx = await CliRunner.RunAsync("index", "--gallery", Path.Combine(dir, "train"), "--out", index, "--clusters", "20");
        Assert.True(idx.ExitCode == 0, idx.Error);

        string json = Path.Combine(dir, "retrieve.json");
        var ret = await CliRunner.RunAsync("retrieve", "--gallery", Path.Combine(dir, "train"), "--query", Path.Combine(dir, "test"), "--k", "15",
            "--out", Path.Combine(dir, "nb"), "--index", index, "--json", json);
        Assert.True(ret.ExitCode == 0, ret.Error);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct)))
        {
            Assert.Equal(200, doc.RootElement.GetProperty("queries").GetInt64());
            Assert.InRange(doc.RootElement.GetProperty("scanned_fraction").GetDouble(), 0.0001, 0.9999);
            Assert.Equal(200, doc.RootElement.GetProperty("knn").GetProperty("n").GetInt32());
        }

        string model = Path.Combine(dir, "tiny.gtm");
        string trainJson = Path.Combine(dir, "train.json");
        var train = await CliRunner.RunAsync("train", "--train", Path.Combine(dir, "train"), "--val", Path.Combine(dir, "test"), "--out", model,
            "--preset", "tiny", "--epochs", "1", "--batch", "128", "--json", trainJson);
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.True(File.Exists(model) && File.Exists(model + ".ckpt"));
        Assert.Contains("greedy, epoch 1", train.Output);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(trainJson, Ct)))
        {
            Assert.Equal(1, doc.RootElement.GetProperty("epochs").GetInt32());
            Assert.Equal(200, doc.RootElement.GetProperty("last_validation").GetProperty("n").GetInt32());
        }
    }

    [Fact]
    public async Task Bad_inputs_are_reported_clearly()
    {
        string dir = CliRunner.TempDir();
        var r = await CliRunner.RunAsync("retrieve", "--gallery", Path.Combine(dir, "nope"), "--query", dir, "--out", Path.Combine(dir, "x"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nope", r.Error);
        r = await CliRunner.RunAsync("train", "--train", dir, "--out", Path.Combine(dir, "m.gtm"), "--preset", "huge");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error:", r.Error);
        r = await CliRunner.RunAsync("synth", "--out", dir, "--train", "10", "--modalities", "2");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("odalit", r.Error);
    }
}

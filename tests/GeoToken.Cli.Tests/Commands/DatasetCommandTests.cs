namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken dataset verify|rehash</c>, and commands refusing a dataset edited after it was written.</summary>
public sealed class DatasetCommandTests
{
    [Fact]
    public async Task An_edited_dataset_is_refused_until_rehashed()
    {
        string dir = CliRunner.TempDir();
        var synth = await CliRunner.RunAsync("synth", "--out", dir, "--train", "200", "--test", "10", "--dim", "16");
        Assert.True(synth.ExitCode == 0, synth.Error);
        string train = Path.Combine(dir, "train"), meta = Path.Combine(train, "meta.csv");
        Assert.Equal(0, (await CliRunner.RunAsync("dataset", "verify", train)).ExitCode);

        // One latitude edited in place, same length: the first digit of row 2's LAT.
        var lines = await File.ReadAllLinesAsync(meta, TestContext.Current.CancellationToken);
        var fields = lines[2].Split(',');
        fields[1] = (fields[1][0] == '-' ? "-" : "") + (fields[1].TrimStart('-')[0] == '1' ? '2' : '1') + fields[1].TrimStart('-')[1..];
        lines[2] = string.Join(',', fields);
        await File.WriteAllLinesAsync(meta, lines, TestContext.Current.CancellationToken);

        var retrieve = await CliRunner.RunAsync("retrieve", "--gallery", train, "--query", Path.Combine(dir, "test"), "--out", Path.Combine(dir, "r"));
        Assert.Equal(1, retrieve.ExitCode);
        Assert.Contains(meta, retrieve.Error);
        Assert.Contains($"geotoken dataset rehash {train}", retrieve.Error);
        Assert.False(File.Exists(Path.Combine(dir, "r_I.npy")));
        Assert.Equal(1, (await CliRunner.RunAsync("dataset", "verify", train)).ExitCode);

        var rehash = await CliRunner.RunAsync("dataset", "rehash", train);
        Assert.True(rehash.ExitCode == 0, rehash.Error);
        var verify = await CliRunner.RunAsync("dataset", "verify", train);
        Assert.True(verify.ExitCode == 0, verify.Error);
        Assert.Contains("every file matches dataset.json", verify.Output);
        retrieve = await CliRunner.RunAsync("retrieve", "--gallery", train, "--query", Path.Combine(dir, "test"), "--out", Path.Combine(dir, "r"));
        Assert.True(retrieve.ExitCode == 0, retrieve.Error);
        Assert.True(File.Exists(Path.Combine(dir, "r.json")));
        Directory.Delete(dir, true);
    }
}

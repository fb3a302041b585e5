namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>--recipe paper|default</c>, <c>--accumulate</c> and <c>--precision</c> through the real command tree.</summary>
public sealed class RecipeCommandsTests
{
    [Fact]
    public async Task The_paper_recipe_trains_in_steps_of_2048_in_bf16_and_evaluates_with_its_choices()
    {
        string dir = CliRunner.TempDir();
        var synth = await CliRunner.RunAsync("synth", "--out", dir, "--train", "600", "--test", "20", "--dim", "16", "--seed", "4");
        Assert.True(synth.ExitCode == 0, synth.Error);
        string train = Path.Combine(dir, "train"), test = Path.Combine(dir, "test");

        // The paper recipe; --preset tiny and --epochs 1 given explicitly win over its paper preset and 50 epochs.
        string model = Path.Combine(dir, "m.gtm");
        var r = await CliRunner.RunAsync("train", "--train", train, "--out", model, "--recipe", "paper", "--preset", "tiny", "--epochs", "1", "--batch", "512");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("recipe paper, steps of 2048 rows (512 × 4) in bf16; 1 epochs, 1 steps", r.Output);

        // Ours, with explicit accumulation and precision.
        r = await CliRunner.RunAsync("train", "--train", train, "--out", Path.Combine(dir, "d.gtm"), "--preset", "tiny", "--epochs", "1", "--batch", "100", "--accumulate", "3");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("recipe default, steps of 300 rows (100 × 3) in fp32; 1 epochs, 2 steps", r.Output);

        r = await CliRunner.RunAsync("eval", "--model", model, "--gallery", train, "--query", test, "--recipe", "paper", "--samples", "4");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("beam-paper", r.Output);

        r = await CliRunner.RunAsync("train", "--train", train, "--out", Path.Combine(dir, "x.gtm"), "--precision", "fp16");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--precision fp16: use fp32 or bf16", r.Error);
        r = await CliRunner.RunAsync("train", "--train", train, "--out", Path.Combine(dir, "x.gtm"), "--recipe", "paper", "--batch", "300");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("does not divide", r.Error);
        r = await CliRunner.RunAsync("eval", "--model", model, "--gallery", train, "--query", test, "--recipe", "fast");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--recipe fast: use default or paper", r.Error);
    }
}

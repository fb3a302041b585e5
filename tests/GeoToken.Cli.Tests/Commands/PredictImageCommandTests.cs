namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken predict --image</c> through real ONNX encoders, one per feature view.</summary>
public sealed class PredictImageCommandTests
{
    private static string SqueezeNet => CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx");

    private static string[] Encoder(params string[] encoders) =>
        [.. encoders.SelectMany(e => new[] { "--encoder", e }), "--preprocess", "caffe-squeezenet", "--encoder-output", "pool10_flattened"];

    [Fact]
    public async Task Photos_are_located_through_one_encoder_per_view_and_the_views_must_match_the_model()
    {
        string dir = CliRunner.TempDir();
        // A 1-view model over SqueezeNet-sized (512-d) features: the answers mean nothing, the path is what is tested.
        var synth = await CliRunner.RunAsync("synth", "--out", dir, "--train", "1500", "--test", "20", "--dim", "512", "--modalities", "1", "--seed", "2");
        Assert.True(synth.ExitCode == 0, synth.Error);
        string model = Path.Combine(dir, "m");
        var train = await CliRunner.RunAsync("train", "--train", Path.Combine(dir, "train"), "--out", model, "--preset", "tiny", "--epochs", "1", "--batch", "256");
        Assert.True(train.ExitCode == 0, train.Error);
        string[] predict = ["predict", "--model", model, "--gallery", Path.Combine(dir, "train"), "--image", CliRunner.OnnxTestData("photos"), "--json", "-"];

        var one = await CliRunner.RunAsync([.. predict, .. Encoder(SqueezeNet)]);
        Assert.True(one.ExitCode == 0, one.Error);
        using (var doc = System.Text.Json.JsonDocument.Parse(one.Output))
        {
            Assert.Equal(9, doc.RootElement.GetArrayLength()); // the nine bundled photos
            Assert.Contains(doc.RootElement.EnumerateArray(), p => p.GetProperty("id").GetString() == "DSCN0010.jpg");
        }

        var named = await CliRunner.RunAsync([.. predict, .. Encoder("image=" + SqueezeNet)]);
        Assert.True(named.ExitCode == 0, named.Error);
        Assert.Equal(one.Output, named.Output);

        // Two views for a model that reads one: the predictor names the mismatch.
        var two = await CliRunner.RunAsync([.. predict, .. Encoder("image=" + SqueezeNet, "loc=" + SqueezeNet)]);
        Assert.Equal(1, two.ExitCode);
        Assert.Contains("has 2 feature vector(s); the model reads 1", two.Error);
    }

    [Theory]
    [InlineData("color=x.onnx", "unknown view 'color'")]
    [InlineData("image=a.onnx|image=b.onnx", "the image view is given twice")]
    [InlineData("image=a.onnx|text=b.onnx", "give every view before the last one")]
    public async Task Bad_views_are_usage_errors(string encoders, string expected)
    {
        string dir = CliRunner.TempDir();
        var r = await CliRunner.RunAsync(["predict", "--model", Path.Combine(dir, "m"), "--gallery", dir, "--image", CliRunner.OnnxTestData("photos"), .. Encoder(encoders.Split('|'))]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Error);
    }
}

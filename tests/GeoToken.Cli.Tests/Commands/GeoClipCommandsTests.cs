using System.Text.Json;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken import geoclip</c>, <c>geotoken embed</c> and an imported model in <c>geotoken eval</c>.</summary>
public sealed class GeoClipCommandsTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

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

    /// <summary>
    /// A GeoCLIP weights folder: GeoCLIP's real image MLP and logit scale (TestData/geoclip) and a location encoder with
    /// GeoCLIP's names and shapes and random weights (GeoCLIP's own is 38 MB), written as torch.save would.
    /// </summary>
    private string WeightsFolder(bool withLocation = true)
    {
        string weights = Path.Combine(_dir, withLocation ? "weights" : "partial");
        Directory.CreateDirectory(weights);
        foreach (var name in new[] { GeoClipImporter.ImageMlpFileName, GeoClipImporter.LogitScaleFileName })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "TestData", "geoclip", name), Path.Combine(weights, name));
        }

        if (!withLocation) return weights;
        using var g = new Generator(17);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        double[] sigmas = [1, 16, 256];
        for (int i = 0; i < 3; i++)
        {
            tensors.Add(new($"LocEnc{i}.capsule.0.b", randn([256, 2], generator: g) * sigmas[i]));
            int inWidth = 512;
            foreach (var (layer, outWidth) in new[] { ("capsule.1", 1024), ("capsule.3", 1024), ("capsule.5", 1024), ("head.0", 512) })
            {
                tensors.Add(new($"LocEnc{i}.{layer}.weight", randn([outWidth, inWidth], generator: g) / Math.Sqrt(inWidth)));
                tensors.Add(new($"LocEnc{i}.{layer}.bias", randn([outWidth], generator: g) * 0.05));
                inWidth = outWidth;
            }
        }

        PyTorchCheckpoint.Write(Path.Combine(weights, GeoClipImporter.LocationEncoderFileName), tensors);
        foreach (var t in tensors) t.Value.Dispose();
        return weights;
    }

    private async Task<string> ImportAsync()
    {
        string model = Path.Combine(_dir, "geoclip.gts");
        var import = await CliRunner.RunAsync("import", "geoclip", "--weights", WeightsFolder(), "--out", model);
        Assert.True(import.ExitCode == 0, import.Error);
        Assert.Contains("GeoCLIP", import.Output);
        return model;
    }

    [Fact]
    public async Task Import_writes_a_similarity_model_refuses_to_overwrite_and_names_a_missing_file()
    {
        string model = await ImportAsync();
        using (var loaded = SimilarityModelFile.Load(model))
        {
            Assert.Equal(SimilarityLocationInput.EqualEarth, loaded.Options.LocationInput);
            Assert.Equal(1 / Math.Exp(3.6810348), loaded.Temperature, 6);
        }

        long length = new FileInfo(model).Length;
        var again = await CliRunner.RunAsync("import", "geoclip", "--weights", Path.Combine(_dir, "weights"), "--out", model);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Error);
        var forced = await CliRunner.RunAsync("import", "geoclip", "--weights", Path.Combine(_dir, "weights"), "--out", model, "--force");
        Assert.True(forced.ExitCode == 0, forced.Error);
        Assert.Equal(length, new FileInfo(model).Length);

        var missing = await CliRunner.RunAsync("import", "geoclip", "--weights", WeightsFolder(withLocation: false), "--out", Path.Combine(_dir, "other.gts"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains(GeoClipImporter.LocationEncoderFileName, missing.Error);
        Assert.False(File.Exists(Path.Combine(_dir, "other.gts")));
    }

    [Fact]
    public async Task Embed_writes_normalised_rows_in_input_order_and_names_bad_input()
    {
        string model = await ImportAsync();
        using var sim = SimilarityModelFile.Load(model);

        // Locations: the poles, both sides of the antimeridian, (0, 0); batches of 3 so that rows cross chunk borders.
        var points = new[] { new LatLng(0, 0), new LatLng(90, 0), new LatLng(-90, 180), new LatLng(10, -180), new LatLng(10, 180), new LatLng(48.8566, 2.3522), new LatLng(-33.87, 151.21) };
        string csv = Path.Combine(_dir, "points.csv");
        await File.WriteAllLinesAsync(csv, ["ID,LAT,LON", .. points.Select((p, i) => FormattableString.Invariant($"p{i},{p.Latitude},{p.Longitude}"))], Ct);
        string locOut = Path.Combine(_dir, "loc.npy");
        var embed = await CliRunner.RunAsync("embed", "--similarity", model, "--locations", csv, "--out", locOut, "--batch", "3");
        Assert.True(embed.ExitCode == 0, embed.Error);
        Assert.Contains("7 × 512", embed.Output);
        float[] expected;
        using (NewDisposeScope())
        using (no_grad())
        {
            expected = sim.EmbedPositions(points).data<float>().ToArray();
        }

        AssertUnitRowsEqual(NpyFile.ReadAll<float>(locOut), expected, 512);

        // Image features.
        var rng = new Random(3);
        var features = Enumerable.Range(0, 5 * 768).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        string npy = Path.Combine(_dir, "features.npy"), imgOut = Path.Combine(_dir, "img.npy");
        NpyFile.Write(npy, features, 768);
        var images = await CliRunner.RunAsync("embed", "--similarity", model, "--features", npy, "--out", imgOut, "--batch", "2");
        Assert.True(images.ExitCode == 0, images.Error);
        using (NewDisposeScope())
        using (no_grad())
        {
            expected = sim.EmbedImages(tensor(features, [5, 768])).data<float>().ToArray();
        }

        AssertUnitRowsEqual(NpyFile.ReadAll<float>(imgOut), expected, 512);

        // Refuses to overwrite; bad rows and shapes are named.
        var overwrite = await CliRunner.RunAsync("embed", "--similarity", model, "--features", npy, "--out", imgOut);
        Assert.Equal(1, overwrite.ExitCode);
        Assert.Contains("--force", overwrite.Error);

        string bad = Path.Combine(_dir, "bad.csv");
        await File.WriteAllLinesAsync(bad, ["LAT,LON", "10,20", "north,30", "5,6"], Ct);
        var badRow = await CliRunner.RunAsync("embed", "--similarity", model, "--locations", bad, "--out", Path.Combine(_dir, "bad.npy"));
        Assert.Equal(1, badRow.ExitCode);
        Assert.Contains("bad.csv, row 2, column 'LAT'", badRow.Error);
        Assert.Contains("'north'", badRow.Error);
        Assert.False(File.Exists(Path.Combine(_dir, "bad.npy")));

        string outside = Path.Combine(_dir, "outside.csv");
        await File.WriteAllLinesAsync(outside, ["LAT,LON", "95,20"], Ct);
        var outsideRow = await CliRunner.RunAsync("embed", "--similarity", model, "--locations", outside, "--out", Path.Combine(_dir, "outside.npy"));
        Assert.Contains("row 1, column 'LAT': latitude 95", outsideRow.Error);

        string narrow = Path.Combine(_dir, "narrow.npy");
        NpyFile.Write(narrow, new float[2 * 64], 64);
        var wrongWidth = await CliRunner.RunAsync("embed", "--similarity", model, "--features", narrow, "--out", Path.Combine(_dir, "n.npy"));
        Assert.Equal(1, wrongWidth.ExitCode);
        Assert.Contains("narrow.npy holds 64-d features; the similarity model reads 768-d", wrongWidth.Error);

        var both = await CliRunner.RunAsync("embed", "--similarity", model, "--features", npy, "--locations", csv, "--out", Path.Combine(_dir, "x.npy"));
        Assert.Equal(2, both.ExitCode); // a usage error
        Assert.Contains("exactly one", both.Error);
    }

    [Fact]
    public async Task Eval_runs_the_gps_gallery_and_similarity_strategies_with_an_imported_model()
    {
        string model = await ImportAsync();
        var synth = await CliRunner.RunAsync("synth", "--out", _dir, "--train", "400", "--test", "30", "--dim", "768", "--seed", "5");
        Assert.True(synth.ExitCode == 0, synth.Error);
        string tokens = Path.Combine(_dir, "tiny.gtm");
        var train = await CliRunner.RunAsync("train", "--train", Path.Combine(_dir, "train"), "--val", Path.Combine(_dir, "test"), "--out", tokens,
            "--preset", "tiny", "--epochs", "1", "--batch", "100");
        Assert.True(train.ExitCode == 0, train.Error);
        string json = Path.Combine(_dir, "eval.json");
        var eval = await CliRunner.RunAsync("eval", "--model", tokens, "--gallery", Path.Combine(_dir, "train"), "--query", Path.Combine(_dir, "test"),
            "--max-queries", "10", "--samples", "2", "--json", json, "--similarity", model, "--gps-gallery", "train");
        Assert.True(eval.ExitCode == 0, eval.Error);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct));
        var names = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("strategy").GetString()).ToArray();
        Assert.Contains("gps-gallery", names);
        Assert.Contains("similarity", names);
        Assert.All(doc.RootElement.EnumerateArray(), e => Assert.Equal(10, e.GetProperty("n").GetInt32()));
    }

    private static void AssertUnitRowsEqual(float[] actual, float[] expected, int d)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < actual.Length / d; r++)
        {
            double norm = 0;
            for (int j = 0; j < d; j++)
            {
                norm += actual[r * d + j] * (double)actual[r * d + j];
                // The command and the library run the same float32 computation on the same rows; batching may change
                // the kernels' summation order by an ulp or so.
                Assert.True(Math.Abs(actual[r * d + j] - expected[r * d + j]) < 1e-5f, $"row {r}, column {j}: {actual[r * d + j]} vs {expected[r * d + j]}");
            }

            Assert.True(Math.Abs(norm - 1) < 1e-5, $"row {r} has squared norm {norm}");
        }
    }
}

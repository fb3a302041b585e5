using System.Text.Json;

namespace GeoToken.Cli.Tests.Commands;

public sealed class MetricsCommandTests
{
    private static readonly string Osv5m = Path.Combine(AppContext.BaseDirectory, "TestData", "osv5m_select.csv");

    [Fact]
    public async Task Json_dash_writes_the_json_alone_to_standard_output_and_the_report_to_standard_error()
    {
        string[] args = ["metrics", "--predictions", Osv5m, "--true-lat", "true_lat", "--true-lon", "true_lon", "--pred-lat", "pred_lat", "--pred-lon", "pred_lon"];
        string file = Path.Combine(CliRunner.TempDir(), "m.json");
        var toFile = await CliRunner.RunAsync([.. args, "--json", file]);
        Assert.Equal(0, toFile.ExitCode);

        var (code, output, error) = await CliRunner.RunAsync([.. args, "--json", "-"]);
        Assert.Equal(0, code);
        Assert.Equal((await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Trim(), output.Trim()); // nothing but the JSON
        Assert.Contains("≤2500 km", error);
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "-")));
    }

    [Fact]
    public async Task Json_has_the_documented_keys_and_real_values()
    {
        string json = Path.Combine(CliRunner.TempDir(), "m.json");
        var (code, output, _) = await CliRunner.RunAsync("metrics", "--predictions", Osv5m, "--true-lat", "true_lat", "--true-lon", "true_lon",
            "--pred-lat", "pred_lat", "--pred-lon", "pred_lon", "--json", json);
        Assert.Equal(0, code);
        Assert.Contains("≤2500 km", output);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var root = doc.RootElement;
        foreach (var key in new[] { "n", "acc_1km", "acc_25km", "acc_200km", "acc_750km", "acc_2500km", "median_km", "mean_km" })
        {
            Assert.True(root.TryGetProperty(key, out _), key);
        }

        // The file's own published distance column gives the same table.
        Assert.Equal(50, root.GetProperty("n").GetInt32());
        var published = File.ReadAllLines(Osv5m).Skip(1).Select(l => double.Parse(l.Split(',')[17], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(100.0 * published.Count(d => d <= 200) / 50, root.GetProperty("acc_200km").GetDouble());
        Assert.Equal(100.0 * published.Count(d => d <= 2500) / 50, root.GetProperty("acc_2500km").GetDouble());
        Assert.Equal(published.Average(), root.GetProperty("mean_km").GetDouble(), 6);
    }

    [Fact]
    public async Task Default_columns_are_LAT_LON_LAT_pred_LON_pred()
    {
        string dir = CliRunner.TempDir();
        string p = Path.Combine(dir, "p.csv");
        await File.WriteAllTextAsync(p, "IMG_ID,LAT,LON,LAT_pred,LON_pred\na,0,0,0,1\nb,10,10,10,10\n", TestContext.Current.CancellationToken);
        string json = Path.Combine(dir, "m.json");
        var (code, _, _) = await CliRunner.RunAsync("metrics", "--predictions", p, "--json", json);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal(50.0, doc.RootElement.GetProperty("acc_1km").GetDouble());
        Assert.Equal(100.0, doc.RootElement.GetProperty("acc_200km").GetDouble());
    }

    [Fact]
    public async Task Missing_columns_and_bad_values_are_named()
    {
        var (code, _, error) = await CliRunner.RunAsync("metrics", "--predictions", Osv5m);
        Assert.Equal(1, code);
        Assert.Contains("no true latitude column (looked for LAT)", error);
        string p = Path.Combine(CliRunner.TempDir(), "p.csv");
        await File.WriteAllTextAsync(p, "LAT,LON,LAT_pred,LON_pred\n0,0,0,1\n-91,0,0,0\n", TestContext.Current.CancellationToken);
        (code, _, error) = await CliRunner.RunAsync("metrics", "--predictions", p);
        Assert.Equal(1, code);
        Assert.Contains("row 2, column 'LAT': latitude -91 is outside", error);
    }
}

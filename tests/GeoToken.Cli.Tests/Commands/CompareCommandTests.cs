using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GeoToken.Cli.Tests.Commands;

public sealed class CompareCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// 20 images on the equator: greedy is always 0.1° (11 km) off; beam is 0.1° off on 12 images, 1° (111 km) on 8.
    /// Within 25 km beam loses those 8 and wins none.
    /// </summary>
    private static async Task<string> WritePredictions(string dir)
    {
        var sb = new StringBuilder("IMG_ID,LAT,LON,LAT_pred,LON_pred,LAT_pred_greedy,LON_pred_greedy,LAT_pred_beam,LON_pred_beam\n");
        for (int i = 0; i < 20; i++)
        {
            double lon = i, beamLon = i < 12 ? lon + 0.1 : lon + 1;
            sb.Append(CultureInfo.InvariantCulture, $"img{i},0,{lon},0,{lon + 0.1},0,{lon + 0.1},0,{beamLon}\n");
        }

        string path = Path.Combine(dir, "pred.csv");
        await File.WriteAllTextAsync(path, sb.ToString(), Ct);
        return path;
    }

    [Fact]
    public async Task Reports_paired_wins_losses_and_p_values_per_distance()
    {
        string dir = CliRunner.TempDir();
        string pred = await WritePredictions(dir), json = Path.Combine(dir, "c.json");
        var (code, output, error) = await CliRunner.RunAsync("compare", "--predictions", pred, "--json", json);
        Assert.True(code == 0, error);
        Assert.Contains("against greedy (20 images)", output);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct));
        var rows = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(5, rows.Length); // beam only, at the five standard distances
        Assert.All(rows, r => Assert.Equal(("beam", "greedy", 20), (r.GetProperty("strategy").GetString(), r.GetProperty("baseline").GetString(), r.GetProperty("n").GetInt32())));
        var at25 = rows.Single(r => r.GetProperty("threshold_km").GetDouble() == 25);
        Assert.Equal((60.0, 100.0, 0, 8, -40.0), (at25.GetProperty("accuracy").GetDouble(), at25.GetProperty("baseline_accuracy").GetDouble(),
            at25.GetProperty("wins").GetInt32(), at25.GetProperty("losses").GetInt32(), at25.GetProperty("difference").GetDouble()));
        Assert.Equal(2 * Math.Pow(0.5, 8), at25.GetProperty("p_value").GetDouble(), 12);
        var at200 = rows.Single(r => r.GetProperty("threshold_km").GetDouble() == 200);
        Assert.Equal((0, 0, 1.0), (at200.GetProperty("wins").GetInt32(), at200.GetProperty("losses").GetInt32(), at200.GetProperty("p_value").GetDouble()));
    }

    [Fact]
    public async Task Unknown_strategies_and_files_without_strategy_columns_are_named()
    {
        string dir = CliRunner.TempDir();
        string pred = await WritePredictions(dir);
        var r = await CliRunner.RunAsync("compare", "--predictions", pred, "--baseline", "oracle");
        Assert.Equal(2, r.ExitCode); // a usage error: no such strategy in the file
        Assert.Contains("--baseline oracle", r.Error);
        Assert.Contains("greedy, beam", r.Error);
        r = await CliRunner.RunAsync("compare", "--predictions", pred, "--strategies", "beam,mbr");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("mbr", r.Error);

        await AssertRejected(dir, "LAT,LON,LAT_pred,LON_pred\n1,2,3,4\n", "LAT_pred_NAME");
        await AssertRejected(dir, "LAT,LON,LAT_pred_a,LON_pred_a,LAT_pred_a,LON_pred_a\n1,2,3,4,5,6\n", "'LAT_pred_a': appears twice");
        await AssertRejected(dir, "LAT,LON,LAT_pred_greedy,LON_pred_greedy,LAT_pred_beam,LON_pred_beam\n1,2,3,4,95,4\n", "LAT_pred_beam");
    }

    /// <summary>Runs compare on a CSV of <paramref name="text"/>: exit code 1 and an error containing <paramref name="expected"/>.</summary>
    private static async Task AssertRejected(string dir, string text, string expected)
    {
        string path = Path.Combine(dir, $"rejected-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, text, Ct);
        var r = await CliRunner.RunAsync("compare", "--predictions", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(expected, r.Error);
    }
}

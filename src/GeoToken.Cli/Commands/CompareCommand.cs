using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.IO;
using Spectre.Console;

namespace GeoToken.Cli.Commands;

/// <summary>
/// <c>geotoken compare</c>: paired differences between the strategies of a <c>geotoken eval --predictions</c> CSV and
/// a baseline, with 95 % intervals and exact McNemar tests, to tell real gains from noise.
/// </summary>
internal static class CompareCommand
{
    private const string LatPrefix = "LAT_pred_", LonPrefix = "LON_pred_";

    public static Command Create()
    {
        var predictions = new Option<FileInfo>("--predictions") { HelpName = "FILE.csv", Description = "Predictions CSV of geotoken eval (LAT, LON, then LAT_pred_NAME/LON_pred_NAME per strategy).", Required = true };
        var baseline = new Option<string>("--baseline") { HelpName = "STRATEGY", Description = "Strategy to compare against.", DefaultValueFactory = _ => "greedy" };
        var strategies = new Option<string?>("--strategies") { HelpName = "S1,S2,…", Description = "Comma-separated strategies to compare (default: every other one in the file)." };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Also write the comparisons as JSON. - writes it to standard output (the report then goes to standard error)." };
        var cmd = new Command("compare", "Paired accuracy differences against a baseline strategy: wins, losses, 95 % interval and McNemar p-value per distance.")
        {
            predictions, baseline, strategies, json,
        };
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(predictions)!.FullName, baseName = parse.GetValue(baseline)!;
            var evaluated = Read(path);
            if (!evaluated.TryGetValue(baseName, out var baseEvaluation))
            {
                throw new CliUsageException($"--baseline {baseName} is not a strategy of {path}: {string.Join(", ", evaluated.Keys)}.");
            }

            var names = parse.GetValue(strategies) is { } list
                ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : evaluated.Keys.Where(n => n != baseName).ToArray();
            if (names.Length == 0) throw new CliUsageException($"{path} has no strategy besides {baseName} to compare with it.");
            var rows = new List<(string Name, PairedComparison Comparison)>();
            foreach (var name in names)
            {
                if (!evaluated.TryGetValue(name, out var e)) throw new CliUsageException($"--strategies: {name} is not a strategy of {path}: {string.Join(", ", evaluated.Keys)}.");
                rows.Add((name, e.CompareWith(baseEvaluation)));
            }

            Write(parse.InvocationConfiguration.Output, baseName, rows);
            if (parse.GetValue(json) is { } j)
            {
                JsonReport.Write(j.FullName, rows.SelectMany(r => r.Comparison.Thresholds.Select(t => new ComparisonJson(r.Name, baseName, r.Comparison.Count, t))).ToList());
            }

            return 0;
        });
        return cmd.WithExamples("geotoken compare --predictions val.csv", "geotoken compare --predictions test.csv --baseline greedy --strategies beam,consensus --json compare.json");
    }

    /// <summary>Each strategy's evaluation against the file's truth, keyed by strategy name (in column order).</summary>
    private static Dictionary<string, StrategyEvaluation> Read(string path)
    {
        using var csv = CsvReader.Open(path);
        int lat = csv.RequireColumn("true latitude", "LAT"), lon = csv.RequireColumn("true longitude", "LON");
        var columns = new List<(string Name, int Lat, int Lon)>();
        for (int c = 0; c < csv.Header.Count; c++)
        {
            string h = csv.Header[c];
            if (!h.StartsWith(LatPrefix, StringComparison.Ordinal)) continue;
            string name = h[LatPrefix.Length..];
            if (columns.Any(x => x.Name == name)) throw new CsvFormatException(path, -1, h, "appears twice in the header.");
            columns.Add((name, c, csv.RequireColumn($"{name} longitude", LonPrefix + name)));
        }

        if (columns.Count == 0) throw new CsvFormatException(path, -1, null, $"has no {LatPrefix}NAME columns; write it with geotoken eval --predictions.");
        var truth = new List<LatLng>();
        var predictions = columns.Select(_ => new List<LatLng>()).ToArray();
        while (csv.Read())
        {
            truth.Add(new LatLng(csv.GetLatitude(lat), csv.GetLongitude(lon)));
            for (int k = 0; k < columns.Count; k++) predictions[k].Add(new LatLng(csv.GetLatitude(columns[k].Lat), csv.GetLongitude(columns[k].Lon)));
        }

        if (truth.Count == 0) throw new InvalidDataException($"{path} has a header but no rows.");
        return columns.Select((c, k) => StrategyEvaluation.Create(c.Name, predictions[k], truth)).ToDictionary(e => e.Name);
    }

    private static void Write(TextWriter output, string baseline, List<(string Name, PairedComparison Comparison)> rows)
    {
        var console = TableConsole.For(output);
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"against {baseline} ({rows[0].Comparison.Count} images)"));
        table.AddColumn("strategy");
        table.AddColumn(new TableColumn("within").RightAligned());
        table.AddColumn(new TableColumn("%").RightAligned());
        table.AddColumn(new TableColumn($"{Markup.Escape(baseline)} %").RightAligned());
        table.AddColumn(new TableColumn("Δ points").RightAligned());
        table.AddColumn(new TableColumn("95 % interval").RightAligned());
        table.AddColumn(new TableColumn("won").RightAligned());
        table.AddColumn(new TableColumn("lost").RightAligned());
        table.AddColumn(new TableColumn("p").RightAligned());
        static string F(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);
        foreach (var (name, c) in rows)
        {
            foreach (var t in c.Thresholds)
            {
                table.AddRow(
                    Markup.Escape(name), $"{F(t.ThresholdKm, "0")} km", F(t.Accuracy, "F1"), F(t.BaselineAccuracy, "F1"), F(t.Difference, "+0.0;-0.0;0.0"),
                    $"{F(t.DifferenceLow, "+0.0;-0.0;0.0")} … {F(t.DifferenceHigh, "+0.0;-0.0;0.0")}", F(t.Wins, "0"), F(t.Losses, "0"), F(t.PValue, "0.000"));
            }
        }

        console.Write(table);
    }

    private sealed record ComparisonJson(
        [property: JsonPropertyName("strategy")] string Strategy,
        [property: JsonPropertyName("baseline")] string Baseline,
        [property: JsonPropertyName("n")] int N,
        [property: JsonIgnore] PairedThresholdComparison Row)
    {
        [JsonPropertyName("threshold_km")] public double ThresholdKm => Row.ThresholdKm;
        [JsonPropertyName("accuracy")] public double Accuracy => Row.Accuracy;
        [JsonPropertyName("baseline_accuracy")] public double BaselineAccuracy => Row.BaselineAccuracy;
        [JsonPropertyName("difference")] public double Difference => Row.Difference;
        [JsonPropertyName("difference_low")] public double DifferenceLow => Row.DifferenceLow;
        [JsonPropertyName("difference_high")] public double DifferenceHigh => Row.DifferenceHigh;
        [JsonPropertyName("wins")] public int Wins => Row.Wins;
        [JsonPropertyName("losses")] public int Losses => Row.Losses;
        [JsonPropertyName("p_value")] public double PValue => Row.PValue;
    }
}

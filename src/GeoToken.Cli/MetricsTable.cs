using System.Globalization;
using GeoToken.Evaluation;
using Spectre.Console;

namespace GeoToken.Cli;

/// <summary>Prints the standard metrics table, one row per strategy.</summary>
internal static class MetricsTable
{
    public static void Write(TextWriter output, IEnumerable<(string Name, GeoMetrics Metrics)> rows)
    {
        var console = TableConsole.For(output);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("strategy");
        table.AddColumn(new TableColumn("n").RightAligned());
        foreach (var t in GeoMetrics.StandardThresholdsKm) table.AddColumn(new TableColumn($"≤{t} km").RightAligned());
        table.AddColumn(new TableColumn("median km").RightAligned());
        table.AddColumn(new TableColumn("mean km").RightAligned());
        foreach (var (name, m) in rows)
        {
            var cells = new List<string> { Markup.Escape(name), m.Count.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(m.Accuracies.Select(a => a.ToString("F1", CultureInfo.InvariantCulture)));
            cells.Add(m.MedianKm.ToString("F1", CultureInfo.InvariantCulture));
            cells.Add(m.MeanKm.ToString("F1", CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }

        console.Write(table);
    }
}

using GeoToken.Evaluation;
using ScottPlot;

namespace GeoToken.Reports.Plots;

/// <summary>The cumulative distribution of great-circle errors per strategy, on a logarithmic distance axis.</summary>
public static class ErrorCdfPlot
{
    /// <summary>Renders the plot as PNG bytes.</summary>
    public static byte[] RenderPng(IReadOnlyList<StrategyEvaluation> strategies, int width = 1000, int height = 620)
    {
        ArgumentNullException.ThrowIfNull(strategies);
        if (strategies.Count == 0) throw new ArgumentException("No strategies to plot.", nameof(strategies));
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < strategies.Count; s++)
        {
            var d = strategies[s].DistancesKm.Select(x => Math.Log10(Math.Max(x, 0.1))).OrderBy(x => x).ToArray();
            var pct = Enumerable.Range(1, d.Length).Select(i => 100.0 * i / d.Length).ToArray();
            var line = plot.Add.ScatterLine(d, pct);
            line.LegendText = strategies[s].Name;
            line.LineWidth = 2;
            line.Color = palette.GetColor(s);
        }

        foreach (double t in GeoMetrics.StandardThresholdsKm)
        {
            var v = plot.Add.VerticalLine(Math.Log10(t));
            v.LineColor = Colors.Gray.WithAlpha(0.5);
            v.LinePattern = LinePattern.Dashed;
            v.Text = $"{t:0} km";
            v.LabelFontSize = 11;
            v.LabelBackgroundColor = Colors.White;
            v.LabelFontColor = Colors.DimGray;
        }

        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = x => Math.Pow(10, x) >= 1 ? $"{Math.Pow(10, x):N0}" : $"{Math.Pow(10, x):0.#}",
        };
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimits(-1, Math.Log10(20_040), 0, 100);
        plot.XLabel("great-circle error (km, log scale)");
        plot.YLabel("images within that error (%)");
        plot.Title("Error CDF per strategy");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImage(width, height).GetImageBytes(ImageFormat.Png);
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Reports.Plots;

namespace GeoToken.Reports;

/// <summary>
/// Writes an evaluation report into a folder: <c>error_cdf.png</c>, <c>map_&lt;strategy&gt;.png</c> and a
/// self-contained <c>report.html</c> (images embedded) with the metrics table. Every file is written atomically.
/// </summary>
public static class EvaluationReport
{
    /// <summary>Writes the report; returns the path of <c>report.html</c>.</summary>
    public static string Write(string directory, IReadOnlyList<LatLng> truth, IReadOnlyList<StrategyEvaluation> strategies, EvaluationReportOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategies);
        if (strategies.Count == 0) throw new ArgumentException("No strategies to report.", nameof(strategies));
        options ??= new EvaluationReportOptions();
        Directory.CreateDirectory(directory);

        var cdf = ErrorCdfPlot.RenderPng(strategies);
        AtomicFile.Write(Path.Combine(directory, "error_cdf.png"), s => s.Write(cdf));
        var maps = new List<(string Name, string File, byte[] Png)>();
        foreach (var s in strategies.Where(s => options.MapStrategies is null || options.MapStrategies.Contains(s.Name)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var png = PredictionMapPlot.RenderPng($"{s.Name}: predictions (blue) vs truth (black)", truth, s.Predictions);
            string file = $"map_{Safe(s.Name)}.png";
            AtomicFile.Write(Path.Combine(directory, file), st => st.Write(png));
            maps.Add((s.Name, file, png));
        }

        string html = Html(options, strategies, cdf, maps);
        string path = Path.Combine(directory, "report.html");
        AtomicFile.WriteAllText(path, html);
        return path;
    }

    private static string Html(EvaluationReportOptions o, IReadOnlyList<StrategyEvaluation> strategies, byte[] cdf, List<(string Name, string File, byte[] Png)> maps)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        static string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(o.Title)).Append("</title><style>")
         .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}")
         .Append("</style></head><body><h1>").Append(E(o.Title)).Append("</h1>");
        foreach (var n in o.Notes) b.Append("<p>").Append(E(n)).Append("</p>");
        b.Append("<h2>Metrics</h2><table><tr><th>strategy</th><th>n</th>");
        foreach (var t in GeoMetrics.StandardThresholdsKm) b.Append("<th>≤").Append(F(t, "0")).Append(" km (%)</th>");
        b.Append("<th>median km</th><th>mean km</th><th>GeoScore</th><th>ms / image</th></tr>");
        foreach (var s in strategies)
        {
            var m = s.Metrics;
            b.Append("<tr><td>").Append(E(s.Name)).Append("</td><td>").Append(m.Count).Append("</td>");
            foreach (var a in m.Accuracies) b.Append("<td>").Append(F(a, "F1")).Append("</td>");
            b.Append("<td>").Append(F(m.MedianKm, "F1")).Append("</td><td>").Append(F(m.MeanKm, "F1")).Append("</td><td>").Append(F(m.MeanGeoScore, "F0")).Append("</td><td>")
             .Append(s.MillisecondsPerImage is { } ms ? F(ms, "F2") : "–").Append("</td></tr>");
        }

        b.Append("</table><h2>Error CDF</h2><img alt=\"error CDF\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(cdf)).Append("\">");
        foreach (var (name, _, png) in maps)
        {
            b.Append("<h2>Map: ").Append(E(name)).Append("</h2><img alt=\"map of ").Append(E(name)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">");
        }

        b.Append("<p><small>Country outlines: Natural Earth via world-atlas (ISC).</small></p></body></html>");
        return b.ToString();
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}

using GeoToken.Geometry;
using GeoToken.Reports.Geography;
using ScottPlot;

namespace GeoToken.Reports.Plots;

/// <summary>A world map (equirectangular) of one strategy's predictions against the truth, with error lines.</summary>
public static class PredictionMapPlot
{
    /// <summary>Renders the map as PNG bytes; at most <paramref name="maxLines"/> truth→prediction lines are drawn.</summary>
    public static byte[] RenderPng(string title, IReadOnlyList<LatLng> truth, IReadOnlyList<LatLng> predictions, int width = 1200, int height = 640, int maxLines = 400)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predictions);
        if (truth.Count != predictions.Count) throw new ArgumentException($"{truth.Count} true positions but {predictions.Count} predictions.", nameof(predictions));
        var plot = new Plot();
        foreach (var country in WorldOutlines.Countries)
        {
            foreach (var ring in country.Rings)
            {
                // Rings that cross the antimeridian are unwrapped to continuous longitudes and drawn
                // again shifted by 360°, so the axis limits clip each half in place.
                var unwrapped = Unwrap(ring);
                double min = unwrapped.Min(c => c.X), max = unwrapped.Max(c => c.X);
                foreach (double shift in new[] { 0.0, max > 180 ? -360 : min < -180 ? 360 : double.NaN })
                {
                    if (double.IsNaN(shift)) continue;
                    var poly = plot.Add.Polygon(unwrapped.Select(c => new Coordinates(c.X + shift, c.Y)).ToArray());
                    poly.FillColor = Color.FromHex("#eeeeee");
                    poly.LineColor = Color.FromHex("#aaaaaa");
                    poly.LineWidth = 0.6f;
                }
            }
        }

        int step = Math.Max(1, truth.Count / maxLines);
        for (int i = 0; i < truth.Count; i += step)
        {
            if (Math.Abs(truth[i].Longitude - predictions[i].Longitude) > 180) continue; // would cross the map
            var l = plot.Add.Line(truth[i].Longitude, truth[i].Latitude, predictions[i].Longitude, predictions[i].Latitude);
            l.LineColor = Colors.OrangeRed.WithAlpha(0.25);
            l.LineWidth = 1;
        }

        var t = plot.Add.Markers(truth.Select(p => p.Longitude).ToArray(), truth.Select(p => p.Latitude).ToArray(), MarkerShape.FilledCircle, 3, Colors.Black.WithAlpha(0.7));
        t.LegendText = "truth";
        var p = plot.Add.Markers(predictions.Select(x => x.Longitude).ToArray(), predictions.Select(x => x.Latitude).ToArray(), MarkerShape.FilledCircle, 3, Colors.DodgerBlue.WithAlpha(0.7));
        p.LegendText = "prediction";
        plot.Axes.SetLimits(-180, 180, -90, 90);
        plot.Axes.SquareUnits();
        plot.Title(title);
        plot.XLabel("longitude");
        plot.YLabel("latitude");
        plot.ShowLegend(Alignment.LowerLeft);
        return plot.GetImage(width, height).GetImageBytes(ImageFormat.Png);
    }

    private static Coordinates[] Unwrap(double[][] ring)
    {
        var result = new Coordinates[ring.Length];
        double offset = 0;
        for (int i = 0; i < ring.Length; i++)
        {
            if (i > 0)
            {
                double jump = ring[i][0] - ring[i - 1][0];
                if (jump > 180) offset -= 360;
                else if (jump < -180) offset += 360;
            }

            result[i] = new Coordinates(ring[i][0] + offset, ring[i][1]);
        }

        return result;
    }
}

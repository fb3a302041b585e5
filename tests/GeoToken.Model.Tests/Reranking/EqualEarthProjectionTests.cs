using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Reranking;

public class EqualEarthProjectionTests
{
    /// <summary>The published Equal Earth formulas evaluated in double precision, times GeoCLIP's 66.50336 / 180.</summary>
    private static (double X, double Y) Reference(double latDeg, double lonDeg)
    {
        const double a1 = 1.340264, a2 = -0.081106, a3 = 0.000893, a4 = 0.003796;
        double phi = latDeg * Math.PI / 180, lambda = lonDeg * Math.PI / 180;
        double theta = Math.Asin(Math.Sqrt(3) / 2 * Math.Sin(phi));
        double t2 = theta * theta, t6 = t2 * t2 * t2;
        double x = 2 * Math.Sqrt(3) * lambda * Math.Cos(theta) / (3 * (9 * a4 * t6 * t2 + 7 * a3 * t6 + 3 * a2 * t2 + a1));
        double y = theta * (a1 + a2 * t2 + t6 * (a3 + a4 * t2));
        return (x * 66.50336 / 180, y * 66.50336 / 180);
    }

    [Fact]
    public void Float32_projection_matches_the_double_precision_formula_over_the_globe()
    {
        var points = new List<(double Lat, double Lon)> { (0, 0), (90, 0), (-90, 0), (0, 180), (0, -180), (90, 180), (-90, -180), (45, 179.9999), (-33.87, 151.21) };
        var rng = new Random(4);
        for (int i = 0; i < 200; i++) points.Add((rng.NextDouble() * 180 - 90, rng.NextDouble() * 360 - 180));
        using var scope = NewDisposeScope();
        var input = tensor(points.SelectMany(p => new[] { (float)p.Lat, (float)p.Lon }).ToArray(), [points.Count, 2]);
        var projected = EqualEarthProjection.Project(input);
        Assert.Equal(ScalarType.Float32, projected.dtype);
        var values = projected.data<float>().ToArray();
        for (int i = 0; i < points.Count; i++)
        {
            // The reference is evaluated at the float32-rounded input, so only the float32 arithmetic differs:
            // a few ulp of values below 1 in magnitude.
            var (x, y) = Reference((float)points[i].Lat, (float)points[i].Lon);
            Assert.True(Math.Abs(values[2 * i] - x) < 2e-6 && Math.Abs(values[2 * i + 1] - y) < 2e-6,
                $"({points[i].Lat}, {points[i].Lon}) → ({values[2 * i]}, {values[2 * i + 1]}); expected ({x}, {y})");
        }

        // GeoCLIP's scale puts the equator's ends at x = ±1 and the poles at y = ±0.4867.
        Assert.Equal(1.0, values[6], 5);
        Assert.Equal(-1.0, values[8], 5);
        Assert.Equal(0.48672, values[3], 4);
        Assert.Equal(-0.48672, values[5], 4);
    }

    [Fact]
    public void Other_shapes_are_refused()
    {
        using var wrong = zeros(4, 3);
        var e = Assert.Throws<ArgumentException>(() => EqualEarthProjection.Project(wrong));
        Assert.Contains("[4, 3]", e.Message);
    }
}

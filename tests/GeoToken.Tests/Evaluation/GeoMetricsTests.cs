using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.Tests.Evaluation;

public sealed class GeoMetricsTests
{
    private static string Osv5m => Path.Combine(AppContext.BaseDirectory, "TestData", "osv5m_select.csv");

    /// <summary>Real published OSV-5M predictions: our haversine and GeoGuessr score reproduce their distance and score columns.</summary>
    [Fact]
    public void Haversine_and_score_match_published_osv5m_values()
    {
        using var csv = CsvReader.Open(Osv5m);
        int pl = csv.RequireColumn("pred_lat", "pred_lat"), pn = csv.RequireColumn("pred_lon", "pred_lon");
        int tl = csv.RequireColumn("true_lat", "true_lat"), tn = csv.RequireColumn("true_lon", "true_lon");
        int dc = csv.RequireColumn("distance", "distance"), sc = csv.RequireColumn("score", "score");
        int rows = 0;
        while (csv.Read())
        {
            double d = Geodesy.HaversineKm(csv.GetDouble(tl), csv.GetDouble(tn), csv.GetDouble(pl), csv.GetDouble(pn));
            double published = csv.GetDouble(dc);
            Assert.True(Math.Abs(d - published) <= 1e-9 * Math.Max(1, published), $"row {csv.Row}: ours {d}, published {published}");
            Assert.True(Math.Abs(GeoMetrics.GeoScore(published) - csv.GetDouble(sc)) <= 1e-9 * 5000, $"row {csv.Row} score");
            rows++;
        }

        Assert.Equal(50, rows);
    }

    [Fact]
    public void Thresholds_are_inclusive_and_median_is_the_middle()
    {
        var m = GeoMetrics.FromDistances([0.5, 1.0, 25.0, 199.9, 750.0, 2500.0, 2500.1, 10_000]);
        Assert.Equal(8, m.Count);
        Assert.Equal(25.0, m.Acc1Km);
        Assert.Equal(37.5, m.Acc25Km);
        Assert.Equal(50.0, m.Acc200Km);
        Assert.Equal(62.5, m.Acc750Km);
        Assert.Equal(75.0, m.Acc2500Km);
        Assert.Equal((199.9 + 750.0) / 2, m.MedianKm, 12);
        Assert.Equal((0.5 + 1 + 25 + 199.9 + 750 + 2500 + 2500.1 + 10_000) / 8, m.MeanKm, 9);
        Assert.Equal(5000.0, GeoMetrics.GeoScore(0));
        Assert.Equal(3.0, GeoMetrics.FromDistances([1, 3, 7]).MedianKm);
    }

    [Fact]
    public void Bad_distances_are_rejected_with_their_index()
    {
        Assert.Throws<ArgumentException>(() => GeoMetrics.FromDistances([]));
        Assert.Contains("Distance 1 is NaN", Assert.Throws<ArgumentException>(() => GeoMetrics.FromDistances([1, double.NaN])).Message);
        Assert.Contains("Distance 0 is -1", Assert.Throws<ArgumentException>(() => GeoMetrics.FromDistances([-1])).Message);
    }

    [Fact]
    public void Known_distances()
    {
        // One degree of longitude on the equator: 2πR/360.
        Assert.Equal(2 * Math.PI * 6371 / 360, Geodesy.HaversineKm(0, 0, 0, 1), 9);
        Assert.Equal(Math.PI * 6371, Geodesy.HaversineKm(90, 0, -90, 0), 9);
        Assert.Equal(0, Geodesy.HaversineKm(10, 180, 10, -180), 9);
        Assert.Equal(Math.PI * 6371, Geodesy.HaversineKm(0, 0, 0, 180), 6);
    }
}

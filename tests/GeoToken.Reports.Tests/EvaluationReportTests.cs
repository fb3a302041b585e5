using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.Reports;
using GeoToken.Reports.Geography;

namespace GeoToken.Reports.Tests;

public sealed class EvaluationReportTests
{
    [Fact]
    public void Bundled_outlines_decode_to_real_countries()
    {
        var countries = WorldOutlines.Countries;
        Assert.InRange(countries.Count, 170, 180);
        var italy = Assert.Single(countries, c => c.Name == "Italy");
        var all = italy.Rings.SelectMany(r => r).ToArray();
        // Italy's mainland spans about 6.6–18.5 E and 36.6–47.1 N.
        Assert.InRange(all.Min(p => p[0]), 6, 8);
        Assert.InRange(all.Max(p => p[0]), 18, 19);
        Assert.InRange(all.Min(p => p[1]), 36, 38);
        Assert.InRange(all.Max(p => p[1]), 46.5, 47.5);
        Assert.All(italy.Rings, r => Assert.Equal(r[0], r[^1])); // closed rings
    }

    [Fact]
    public void Writes_pngs_and_a_self_contained_html_report()
    {
        var rng = new Random(1);
        var truth = Enumerable.Range(0, 200).Select(_ => new LatLng(rng.NextDouble() * 140 - 70, rng.NextDouble() * 360 - 180)).ToArray();
        var good = truth.Select(t => new LatLng(Math.Clamp(t.Latitude + 0.5, -90, 90), t.Longitude)).ToArray();
        var bad = truth.Select(_ => new LatLng(0.5, 0.5)).ToArray();
        var strategies = new[]
        {
            StrategyEvaluation.Create("good", good, truth, 1.5),
            StrategyEvaluation.Create("bad & <odd>", bad, truth),
        };
        string dir = Directory.CreateTempSubdirectory("geotoken-report").FullName;
        string html = EvaluationReport.Write(dir, truth, strategies, new EvaluationReportOptions { Notes = ["SynthGeo test"] }, TestContext.Current.CancellationToken);
        foreach (var f in new[] { "error_cdf.png", "map_good.png", "map_bad____odd_.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, f));
            Assert.True(bytes.Length > 5000, f);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }

        string text = File.ReadAllText(html);
        Assert.Contains("bad &amp; &lt;odd&gt;", text);
        Assert.Contains("<td>good</td><td>200</td>", text);
        Assert.Equal(3, text.Split("data:image/png;base64,").Length - 1);
        Assert.DoesNotContain("src=\"map_", text); // self-contained
        Assert.Equal(3, Directory.GetFiles(dir).Count(f => f.EndsWith(".png", StringComparison.Ordinal)));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
    }
}

using GeoToken.Geometry;
using GeoToken.Places;

namespace GeoToken.Tests.Places;

/// <summary>The bundled gazetteer and its nearest-place index.</summary>
public sealed class GeoNamesCitiesTests
{
    /// <summary>The embedded extract loads and answers well-known places.</summary>
    [Fact]
    public void Default_extract_loads_and_finds_known_places()
    {
        var g = GeoNamesCities.Default;
        Assert.InRange(g.Count, 45_000, 55_000);
        var paris = g.Nearest(new LatLng(48.8584, 2.2945)); // Eiffel Tower
        Assert.Equal("FR", paris.CountryCode);
        int i = g.NearestIndex(new LatLng(-33.8568, 151.2153), out double d); // Sydney Opera House
        Assert.Equal("AU", g[i].CountryCode);
        Assert.True(d < 10, $"{g[i]} is {d} km away");
        Assert.Equal("AU", g.Countries[g.CountryIndexOf(i)]);
        Assert.Contains(g.Countries, c => c == "VA"); // capitals are kept whatever their population
    }

    /// <summary>The k-d tree returns the same nearest place as brute force, everywhere (poles, antimeridian, random).</summary>
    [Fact]
    public void Nearest_matches_brute_force()
    {
        var g = GeoNamesCities.Default;
        var rng = new Random(5);
        var queries = Enumerable.Range(0, 300)
            .Select(_ => new LatLng(Math.Asin(rng.NextDouble() * 2 - 1) * 180 / Math.PI, rng.NextDouble() * 360 - 180))
            .Concat([new LatLng(90, 0), new LatLng(-90, 0), new LatLng(0, 180), new LatLng(0, -180), new LatLng(-16.5, 179.99), new LatLng(64.2, -180)])
            .ToArray();
        foreach (var q in queries)
        {
            int fast = g.NearestIndex(q, out double fastKm);
            double bestKm = double.MaxValue;
            for (int k = 0; k < g.Count; k++)
            {
                double dk = Geodesy.HaversineKm(q, g[k].Location);
                if (dk < bestKm) bestKm = dk;
            }

            Assert.True(Math.Abs(fastKm - bestKm) < 1e-6, $"{q}: k-d tree {g[fast]} at {fastKm} km, brute force {bestKm} km");
        }
    }

    /// <summary>k nearest places come sorted and agree with brute force.</summary>
    [Fact]
    public void Nearest_places_are_sorted_and_exact()
    {
        var g = GeoNamesCities.Default;
        var q = new LatLng(43.47, 11.88); // Tuscany
        var near = g.NearestPlaces(q, 10);
        Assert.Equal(10, near.Count);
        var brute = Enumerable.Range(0, g.Count).Select(k => Geodesy.HaversineKm(q, g[k].Location)).Order().Take(10).ToArray();
        for (int k = 0; k < 10; k++) Assert.True(Math.Abs(brute[k] - near[k].DistanceKm) < 1e-6, $"{k}: {brute[k]} vs {near[k].DistanceKm}");
        Assert.All(near, n => Assert.Equal("IT", n.City.CountryCode));
    }

    /// <summary>Bad gazetteer rows are rejected with the row named.</summary>
    [Fact]
    public void Bad_rows_are_named()
    {
        var e = Assert.Throws<GeoToken.IO.CsvFormatException>(() =>
            GeoNamesCities.Load(new StringReader("name,country,lat,lon,population\nA,FR,1,2,3\nB,FR,91,2,3\n"), "test.csv"));
        Assert.Contains("test.csv, row 2, column 'lat'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<GeoToken.IO.CsvFormatException>(() =>
            GeoNamesCities.Load(new StringReader("name,country,lat,lon,population\nA,FR,1,2,many\n"), "test.csv"));
        Assert.Contains("'many' is not a non-negative integer", e.Message, StringComparison.Ordinal);
    }
}

using System.Text.Json;

namespace GeoToken.Reports.Geography;

/// <summary>
/// Natural Earth 1:110m country outlines (bundled from the npm package <c>world-atlas</c>, ISC),
/// decoded from TopoJSON: quantised, delta-encoded arcs shared between neighboring countries.
/// </summary>
public static class WorldOutlines
{
    private static readonly Lazy<IReadOnlyList<CountryOutline>> Bundled = new(() =>
    {
        using var s = typeof(WorldOutlines).Assembly.GetManifestResourceStream("GeoToken.Reports.countries-110m.json")
            ?? throw new InvalidOperationException("The bundled country outlines are missing from the assembly.");
        return Decode(s);
    });

    /// <summary>The bundled country outlines (decoded once).</summary>
    public static IReadOnlyList<CountryOutline> Countries => Bundled.Value;

    /// <summary>Decodes a TopoJSON topology with a <c>countries</c> object.</summary>
    /// <exception cref="InvalidDataException">The JSON is not such a topology.</exception>
    public static IReadOnlyList<CountryOutline> Decode(Stream topoJson)
    {
        using var doc = JsonDocument.Parse(topoJson);
        var root = doc.RootElement;
        if (!root.TryGetProperty("type", out var type) || type.GetString() != "Topology")
        {
            throw new InvalidDataException("Not a TopoJSON topology (type != Topology).");
        }

        double sx = 1, sy = 1, tx = 0, ty = 0;
        if (root.TryGetProperty("transform", out var transform))
        {
            sx = transform.GetProperty("scale")[0].GetDouble();
            sy = transform.GetProperty("scale")[1].GetDouble();
            tx = transform.GetProperty("translate")[0].GetDouble();
            ty = transform.GetProperty("translate")[1].GetDouble();
        }

        var arcs = new List<double[][]>();
        foreach (var arc in root.GetProperty("arcs").EnumerateArray())
        {
            var points = new List<double[]>();
            double x = 0, y = 0;
            foreach (var p in arc.EnumerateArray())
            {
                x += p[0].GetDouble();
                y += p[1].GetDouble();
                points.Add([x * sx + tx, y * sy + ty]);
            }

            arcs.Add(points.ToArray());
        }

        var countries = new List<CountryOutline>();
        foreach (var g in root.GetProperty("objects").GetProperty("countries").GetProperty("geometries").EnumerateArray())
        {
            string name = g.TryGetProperty("properties", out var props) && props.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
            var rings = new List<double[][]>();
            switch (g.GetProperty("type").GetString())
            {
                case "Polygon":
                    foreach (var ring in g.GetProperty("arcs").EnumerateArray()) rings.Add(Ring(ring, arcs));
                    break;
                case "MultiPolygon":
                    foreach (var polygon in g.GetProperty("arcs").EnumerateArray())
                    {
                        foreach (var ring in polygon.EnumerateArray()) rings.Add(Ring(ring, arcs));
                    }

                    break;
            }

            if (rings.Count > 0) countries.Add(new CountryOutline(name, rings));
        }

        return countries;
    }

    private static double[][] Ring(JsonElement arcIndices, List<double[][]> arcs)
    {
        var ring = new List<double[]>();
        foreach (var a in arcIndices.EnumerateArray())
        {
            int i = a.GetInt32();
            var arc = i >= 0 ? arcs[i] : arcs[~i].Reverse().ToArray();

            // Consecutive arcs share an end point; keep it once.
            ring.AddRange(ring.Count == 0 ? arc : arc.Skip(1));
        }

        return ring.ToArray();
    }
}

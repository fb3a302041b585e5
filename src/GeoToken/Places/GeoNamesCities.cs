using System.IO.Compression;
using System.Text;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.Places;

/// <summary>
/// An offline gazetteer of populated places with nearest-place queries (a 3-D k-d tree over unit
/// vectors, so queries are exact great-circle nearest neighbors everywhere, poles and the
/// antimeridian included; about a microsecond each).
/// </summary>
/// <remarks>
/// <see cref="Default"/> is the bundled extract of GeoNames' <c>cities1000</c> (49,028 places: population
/// ≥ 5,000, plus every capital), © GeoNames (geonames.org), licensed under CC BY 4.0; see
/// <c>src/GeoToken/Places/Data/ATTRIBUTION.md</c>. Instances are immutable and thread-safe.
/// </remarks>
public sealed class GeoNamesCities
{
    private const string ResourceName = "GeoToken.Places.Data.geonames_cities5000.csv.gz";
    private static readonly Lazy<GeoNamesCities> DefaultInstance = new(LoadDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly GeoNamesCity[] _cities;
    private readonly string[] _countries;   // distinct country codes, sorted
    private readonly int[] _countryIndex;   // per city
    // k-d tree: nodes in implicit order over permuted points (x, y, z interleaved), split axis per node.
    private readonly double[] _xyz;
    private readonly int[] _order;
    private readonly byte[] _axis;

    private GeoNamesCities(GeoNamesCity[] cities)
    {
        if (cities.Length == 0) throw new ArgumentException("A gazetteer needs at least one place.", nameof(cities));
        _cities = cities;
        _countries = cities.Select(c => c.CountryCode).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _countryIndex = cities.Select(c => Array.BinarySearch(_countries, c.CountryCode, StringComparer.Ordinal)).ToArray();
        int n = cities.Length;
        _order = Enumerable.Range(0, n).ToArray();
        var pts = new double[3 * n];
        for (int k = 0; k < n; k++)
        {
            var p = cities[k].Location.ToPoint();
            pts[3 * k] = p.X;
            pts[3 * k + 1] = p.Y;
            pts[3 * k + 2] = p.Z;
        }

        _axis = new byte[n];
        Build(pts, 0, n);
        _xyz = new double[3 * n];
        for (int k = 0; k < n; k++)
        {
            int c = _order[k];
            _xyz[3 * k] = pts[3 * c];
            _xyz[3 * k + 1] = pts[3 * c + 1];
            _xyz[3 * k + 2] = pts[3 * c + 2];
        }
    }

    /// <summary>The bundled GeoNames extract (loaded on first use, about 50 ms).</summary>
    public static GeoNamesCities Default => DefaultInstance.Value;

    /// <summary>Number of places.</summary>
    public int Count => _cities.Length;

    /// <summary>Place <paramref name="index"/> (0 … <see cref="Count"/> − 1).</summary>
    public GeoNamesCity this[int index] => _cities[index];

    /// <summary>The distinct country codes, sorted (ordinal).</summary>
    public IReadOnlyList<string> Countries => _countries;

    /// <summary>The index into <see cref="Countries"/> of place <paramref name="index"/>'s country.</summary>
    public int CountryIndexOf(int index) => _countryIndex[index];

    /// <summary>Loads a gazetteer from CSV with columns <c>name</c>, <c>country</c>, <c>latitude</c>, <c>longitude</c>, <c>population</c> (any order, any case; population optional).</summary>
    /// <exception cref="CsvFormatException">A column is missing or a value is bad (the message names the row).</exception>
    public static GeoNamesCities Load(TextReader reader, string sourceName)
    {
        using var r = new CsvReader(reader, sourceName);
        int name = r.RequireColumn("name", "name");
        int country = r.RequireColumn("country", "country", "country_code", "cc");
        int lat = r.RequireColumn("latitude", "latitude", "lat");
        int lon = r.RequireColumn("longitude", "longitude", "lon", "lng");
        int pop = r.IndexOf("population");
        var list = new List<GeoNamesCity>(50_000);
        while (r.Read())
        {
            int population = 0;
            if (pop >= 0 && !int.TryParse(r.Span(pop), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out population))
            {
                throw r.Error(pop, $"'{r.GetString(pop)}' is not a non-negative integer.");
            }

            list.Add(new GeoNamesCity(r.GetString(name), r.GetString(country), new LatLng(r.GetLatitude(lat), r.GetLongitude(lon)), population));
        }

        return new GeoNamesCities([.. list]);
    }

    /// <summary>Loads a gazetteer CSV file (plain or <c>.gz</c>); see <see cref="Load(TextReader, string)"/>.</summary>
    public static GeoNamesCities LoadFile(string path)
    {
        using Stream fs = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(fs, CompressionMode.Decompress) : fs;
        using var reader = new StreamReader(s, Encoding.UTF8);
        return Load(reader, path);
    }

    /// <summary>A gazetteer of the given places.</summary>
    public static GeoNamesCities FromPlaces(IEnumerable<GeoNamesCity> places) => new([.. places]);

    /// <summary>The place nearest to <paramref name="position"/>.</summary>
    public GeoNamesCity Nearest(LatLng position) => _cities[NearestIndex(position, out _)];

    /// <summary>The index of the place nearest to <paramref name="position"/> and its great-circle distance in km.</summary>
    public int NearestIndex(LatLng position, out double distanceKm)
    {
        var p = position.ToPoint();
        double best = double.MaxValue;
        int bestNode = -1;
        Search(0, _cities.Length, p.X, p.Y, p.Z, ref best, ref bestNode);
        // chord² → great-circle distance
        distanceKm = 2 * Geodesy.EarthRadiusKm * Math.Asin(Math.Min(1.0, Math.Sqrt(best) / 2));
        return _order[bestNode];
    }

    /// <summary>Up to <paramref name="count"/> places nearest to <paramref name="position"/>, nearest first, with distances in km.</summary>
    public IReadOnlyList<(GeoNamesCity City, double DistanceKm)> NearestPlaces(LatLng position, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        count = Math.Min(count, _cities.Length);
        var p = position.ToPoint();
        var heap = new PriorityQueue<int, double>(count + 1, Comparer<double>.Create((a, b) => b.CompareTo(a))); // max-heap on chord²
        SearchK(0, _cities.Length, p.X, p.Y, p.Z, count, heap);
        var result = new List<(GeoNamesCity, double)>(count);
        while (heap.TryDequeue(out int node, out double d2))
        {
            result.Add((_cities[_order[node]], 2 * Geodesy.EarthRadiusKm * Math.Asin(Math.Min(1.0, Math.Sqrt(d2) / 2))));
        }

        result.Reverse();
        return result;
    }

    private static GeoNamesCities LoadDefault()
    {
        using var stream = typeof(GeoNamesCities).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(GeoNamesCities).Assembly.GetName().Name}.");
        using var gz = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        return Load(reader, "embedded " + ResourceName);
    }

    // Subtree [lo, hi): the median m = (lo + hi) / 2 is the node; left [lo, m), right [m + 1, hi).
    private void Build(double[] pts, int lo, int hi)
    {
        if (hi - lo <= 1) return;
        // Split on the axis of largest spread.
        Span<double> min = [double.MaxValue, double.MaxValue, double.MaxValue];
        Span<double> max = [double.MinValue, double.MinValue, double.MinValue];
        for (int k = lo; k < hi; k++)
        {
            int c = _order[k];
            for (int a = 0; a < 3; a++)
            {
                min[a] = Math.Min(min[a], pts[3 * c + a]);
                max[a] = Math.Max(max[a], pts[3 * c + a]);
            }
        }

        int axis = 0;
        for (int a = 1; a < 3; a++)
        {
            if (max[a] - min[a] > max[axis] - min[axis]) axis = a;
        }

        int m = (lo + hi) / 2;
        // Sort the range by the axis and recurse (primitive keys: fast, and deterministic for the same input).
        var keys = new double[hi - lo];
        for (int k = lo; k < hi; k++) keys[k - lo] = pts[3 * _order[k] + axis];
        keys.AsSpan().Sort(_order.AsSpan(lo, hi - lo));
        _axis[m] = (byte)axis;
        Build(pts, lo, m);
        Build(pts, m + 1, hi);
    }

    private void Search(int lo, int hi, double x, double y, double z, ref double best, ref int bestNode)
    {
        while (hi > lo)
        {
            int m = (lo + hi) / 2;
            double dx = _xyz[3 * m] - x, dy = _xyz[3 * m + 1] - y, dz = _xyz[3 * m + 2] - z;
            double d2 = dx * dx + dy * dy + dz * dz;
            if (d2 < best || (d2 == best && _order[m] < _order[bestNode]))
            {
                best = d2;
                bestNode = m;
            }

            if (hi - lo == 1) return;
            int axis = _axis[m];
            double diff = (axis == 0 ? x : axis == 1 ? y : z) - _xyz[3 * m + axis];
            if (diff < 0)
            {
                Search(lo, m, x, y, z, ref best, ref bestNode);
                if (diff * diff > best) return;
                lo = m + 1;
            }
            else
            {
                Search(m + 1, hi, x, y, z, ref best, ref bestNode);
                if (diff * diff > best) return;
                hi = m;
            }
        }
    }

    private void SearchK(int lo, int hi, double x, double y, double z, int k, PriorityQueue<int, double> heap)
    {
        if (hi <= lo) return;
        int m = (lo + hi) / 2;
        double dx = _xyz[3 * m] - x, dy = _xyz[3 * m + 1] - y, dz = _xyz[3 * m + 2] - z;
        double d2 = dx * dx + dy * dy + dz * dz;
        if (heap.Count < k) heap.Enqueue(m, d2);
        else if (heap.TryPeek(out _, out double worst) && d2 < worst) heap.EnqueueDequeue(m, d2);
        if (hi - lo == 1) return;
        int axis = _axis[m];
        double diff = (axis == 0 ? x : axis == 1 ? y : z) - _xyz[3 * m + axis];
        int nearLo = diff < 0 ? lo : m + 1, nearHi = diff < 0 ? m : hi;
        int farLo = diff < 0 ? m + 1 : lo, farHi = diff < 0 ? hi : m;
        SearchK(nearLo, nearHi, x, y, z, k, heap);
        if (heap.Count < k || (heap.TryPeek(out _, out double w) && diff * diff < w)) SearchK(farLo, farHi, x, y, z, k, heap);
    }
}

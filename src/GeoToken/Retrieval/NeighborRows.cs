using GeoToken.Geometry;

namespace GeoToken.Retrieval;

/// <summary>
/// Neighbors with their gallery rows' content (<see cref="INeighborRowSearch"/>): per neighbor, in the order of
/// <see cref="Results"/> (query-major, best first), its coordinates, tokens and feature views.
/// </summary>
public sealed class NeighborRows
{
    private readonly LatLng[] _locations;
    private readonly short[] _tokens;
    private readonly float[] _features;

    private NeighborRows(NeighborResults results, int views, int dimension, int tokenLength, LatLng[] locations, short[] tokens, float[] features)
    {
        Results = results;
        Views = views;
        Dimension = dimension;
        TokenLength = tokenLength;
        _locations = locations;
        _tokens = tokens;
        _features = features;
    }

    /// <summary>The neighbors (gallery rows and similarities).</summary>
    public NeighborResults Results { get; }

    /// <summary>Feature views per neighbor (the first of image, location, text).</summary>
    public int Views { get; }

    /// <summary>Values per feature view.</summary>
    public int Dimension { get; }

    /// <summary>Tokens per neighbor.</summary>
    public int TokenLength { get; }

    /// <summary>
    /// Neighbor content from arrays, kept, not copied: <paramref name="locations"/> one per neighbor (queries × K),
    /// <paramref name="tokens"/> <paramref name="tokenLength"/> per neighbor, <paramref name="features"/>
    /// <paramref name="views"/> × <paramref name="dimension"/> per neighbor (view-major).
    /// </summary>
    /// <exception cref="ArgumentException">An array's length does not fit the results.</exception>
    public static NeighborRows FromArrays(NeighborResults results, int views, int dimension, int tokenLength, LatLng[] locations, short[] tokens, float[] features)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfLessThan(views, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenLength, 1);
        long n = (long)results.QueryCount * results.K;
        if (locations.Length != n || tokens.Length != n * tokenLength || features.Length != n * views * dimension)
        {
            throw new ArgumentException($"{n} neighbors need {n} locations, {n * tokenLength} tokens and {n * views * dimension} feature values; got {locations.Length}, {tokens.Length} and {features.Length}.", nameof(locations));
        }

        return new NeighborRows(results, views, dimension, tokenLength, locations, tokens, features);
    }

    /// <summary>The coordinates of neighbor <paramref name="j"/> of query <paramref name="query"/>.</summary>
    public LatLng GetLocation(long query, int j) => _locations[Slot(query, j)];

    /// <summary>The tokens of neighbor <paramref name="j"/> of query <paramref name="query"/>.</summary>
    public ReadOnlySpan<short> GetTokens(long query, int j) => _tokens.AsSpan(checked((int)(Slot(query, j) * TokenLength)), TokenLength);

    /// <summary>Feature view <paramref name="view"/> of neighbor <paramref name="j"/> of query <paramref name="query"/>.</summary>
    public ReadOnlySpan<float> GetFeatures(long query, int j, int view)
    {
        if ((uint)view >= (uint)Views) throw new ArgumentOutOfRangeException(nameof(view), view, $"The rows hold {Views} views.");
        return _features.AsSpan(checked((int)((Slot(query, j) * Views + view) * Dimension)), Dimension);
    }

    private long Slot(long query, int j)
    {
        if ((ulong)query >= (ulong)Results.QueryCount) throw new ArgumentOutOfRangeException(nameof(query), query, $"The results hold {Results.QueryCount} queries.");
        if ((uint)j >= (uint)Results.K) throw new ArgumentOutOfRangeException(nameof(j), j, $"The results hold K = {Results.K} neighbors per query.");
        return query * Results.K + j;
    }
}

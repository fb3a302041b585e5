namespace GeoToken.Retrieval;

/// <summary>Search results held in memory (also an <see cref="INeighborSink"/>): row-major Queries × K.</summary>
public sealed class NeighborResults : INeighborSink
{
    private long[] _indices = [];
    private float[] _similarities = [];

    /// <summary>Number of queries.</summary>
    public long QueryCount { get; private set; }

    /// <summary>Neighbours per query.</summary>
    public int K { get; private set; }

    /// <summary>Gallery row indices, row-major Queries × K, best first.</summary>
    public ReadOnlySpan<long> Indices => _indices;

    /// <summary>Cosine similarities matching <see cref="Indices"/>.</summary>
    public ReadOnlySpan<float> Similarities => _similarities;

    /// <summary>The statistics of the search that filled these results (set by <see cref="NeighborIndex.Search(GeoToken.Data.FeatureMatrix, SearchOptions, CancellationToken)"/>).</summary>
    public SearchStatistics? Statistics { get; internal set; }

    /// <summary>The neighbours of <paramref name="query"/>, best first.</summary>
    public ReadOnlySpan<long> IndicesOf(long query) => _indices.AsSpan(checked((int)(query * K)), K);

    /// <summary>The similarities of <paramref name="query"/>'s neighbours, best first.</summary>
    public ReadOnlySpan<float> SimilaritiesOf(long query) => _similarities.AsSpan(checked((int)(query * K)), K);

    /// <inheritdoc/>
    public void Begin(long queryCount, int k)
    {
        long n = checked(queryCount * k);
        if (n > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(queryCount), queryCount, $"{queryCount} × {k} results do not fit in memory arrays; write them to a file sink instead.");
        QueryCount = queryCount;
        K = k;
        _indices = new long[n];
        _similarities = new float[n];
    }

    /// <inheritdoc/>
    public void Write(long firstQuery, ReadOnlySpan<long> indices, ReadOnlySpan<float> similarities)
    {
        indices.CopyTo(_indices.AsSpan(checked((int)(firstQuery * K))));
        similarities.CopyTo(_similarities.AsSpan(checked((int)(firstQuery * K))));
    }

    /// <inheritdoc/>
    public void Complete()
    {
    }
}

namespace GeoToken.Retrieval;

/// <summary>Search results held in memory (also an <see cref="INeighborSink"/>): row-major Queries × K.</summary>
public sealed class NeighborResults : INeighborSink
{
    private long[] _indices = [];
    private float[] _similarities = [];

    /// <summary>Empty results, to be filled as an <see cref="INeighborSink"/> (by a search).</summary>
    public NeighborResults()
    {
    }

    /// <summary>
    /// Results from arrays (e.g. an <see cref="INeighborSearch"/> in another package): row-major queries × <paramref name="k"/>
    /// gallery rows, best first, and their similarities. The arrays are kept, not copied.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays differ in length or are not a whole number of rows of <paramref name="k"/>.</exception>
    public static NeighborResults FromArrays(int k, long[] indices, float[] similarities)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(similarities);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (indices.Length != similarities.Length || indices.Length % k != 0)
        {
            throw new ArgumentException($"{indices.Length} indices and {similarities.Length} similarities are not whole rows of k = {k} each.", nameof(indices));
        }

        return new NeighborResults { _indices = indices, _similarities = similarities, K = k, QueryCount = indices.Length / k };
    }

    /// <summary>
    /// Checks results that <paramref name="search"/> returned for <paramref name="queries"/>: as many rows as queries, K
    /// neighbors each, every gallery row inside the gallery, similarities not NaN. Callers of a search they do not
    /// control check with this before using the rows.
    /// </summary>
    /// <exception cref="InvalidDataException">The results break the contract; the message names the search, the query and the value.</exception>
    public void CheckFrom(INeighborSearch search, NeighborQueries queries)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(queries);
        int n = queries.QueryCount;
        if (QueryCount != n || K != queries.K)
        {
            throw new InvalidDataException($"The {search.Method} search returned {QueryCount} × {K} neighbors for {n} queries × K = {queries.K}.");
        }

        for (long q = 0; q < n; q++)
        {
            var ids = IndicesOf(q);
            var sims = SimilaritiesOf(q);
            for (int j = 0; j < K; j++)
            {
                if ((ulong)ids[j] >= (ulong)search.GalleryRows || float.IsNaN(sims[j]))
                {
                    long row = queries.Start + q;
                    throw new InvalidDataException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"The {search.Method} search returned, for query row {row + 1} (index {row}), neighbor {j + 1} = gallery row index {ids[j]} with similarity {sims[j]}; the gallery has {search.GalleryRows} rows."));
                }
            }
        }
    }

    /// <summary>Number of queries.</summary>
    public long QueryCount { get; private set; }

    /// <summary>Neighbors per query.</summary>
    public int K { get; private set; }

    /// <summary>Gallery row indices, row-major Queries × K, best first.</summary>
    public ReadOnlySpan<long> Indices => _indices;

    /// <summary>Cosine similarities matching <see cref="Indices"/>.</summary>
    public ReadOnlySpan<float> Similarities => _similarities;

    /// <summary>The statistics of the search that filled these results (set by <see cref="NeighborIndex"/> searches; null from other sources).</summary>
    public SearchStatistics? Statistics { get; internal set; }

    /// <summary>The neighbors of <paramref name="query"/>, best first.</summary>
    public ReadOnlySpan<long> IndicesOf(long query) => _indices.AsSpan(checked((int)(query * K)), K);

    /// <summary>The similarities of <paramref name="query"/>'s neighbors, best first.</summary>
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

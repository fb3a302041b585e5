using System.Diagnostics;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// A searchable gallery: the k most similar gallery rows of each query by cosine similarity.
/// Vectors need not be unit length — every query and gallery vector is divided by its L2 norm
/// (computed in float32), so similarity = q·g / (‖q‖‖g‖); for unit vectors it is the inner product.
/// Zero vectors and vectors holding NaN or ∞ are rejected with an <see cref="InvalidVectorException"/>
/// naming the row. Neighbors are ordered by similarity, best first; equal similarities put the
/// lower gallery row first.
/// </summary>
/// <remarks>
/// Searching is thread-safe. Implementations: <see cref="ExactIndex"/> (brute force) and <see cref="ClusterIndex"/>
/// (hierarchical k-means tree with beam descent). Both are also <see cref="INeighborSearch"/>es, the contract the
/// predictor, the evaluation and training neighbors use (searches through it take <see cref="SearchDefaults"/>).
/// </remarks>
public abstract class NeighborIndex : INeighborSearch, IDisposable
{
    private GalleryFingerprint? _fingerprint;

    private protected NeighborIndex(FeatureMatrix gallery)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        if (gallery.Rows == 0) throw new ArgumentException("The gallery is empty (0 rows); there is nothing to search.", nameof(gallery));
        Gallery = gallery;
    }

    /// <summary>The gallery searched; result indices are its rows.</summary>
    public FeatureMatrix Gallery { get; }

    /// <summary>"exact" or "cluster".</summary>
    public abstract string Method { get; }

    /// <inheritdoc/>
    public long GalleryRows => Gallery.Rows;

    /// <inheritdoc/>
    public int Dimension => Gallery.Columns;

    /// <summary>The gallery's <see cref="GalleryFingerprint"/> hash.</summary>
    public string? GalleryId => GalleryFingerprint.Sha256;

    /// <summary>
    /// The settings of searches through <see cref="INeighborSearch.SearchAsync"/> (beam, leaf margin, threads, block size);
    /// K and <see cref="SearchOptions.ExcludeSelf"/> come from each request. Default: the index's own defaults on every core.
    /// Set it before sharing the index.
    /// </summary>
    public SearchOptions SearchDefaults { get; set; } = new();

    /// <summary>The gallery's fingerprint (computed once).</summary>
    public GalleryFingerprint GalleryFingerprint => _fingerprint ??= ComputeFingerprint();

    /// <summary>
    /// The index for <paramref name="gallery"/>: exact search when <paramref name="indexPath"/> is null,
    /// otherwise the cluster index in that file (memory-mapped; it must have been built for this gallery).
    /// </summary>
    public static NeighborIndex Open(FeatureMatrix gallery, string? indexPath, CancellationToken cancellationToken = default) =>
        indexPath is null ? ExactIndex.Create(gallery, cancellationToken) : ClusterIndex.Open(indexPath, gallery);

    /// <summary>
    /// Searches every row of <paramref name="queries"/> in blocks of <see cref="SearchOptions.QueryBatchSize"/>,
    /// writing each block's neighbors (gallery rows, best first) and similarities to <paramref name="sink"/> in query order.
    /// </summary>
    /// <exception cref="ArgumentException">Dimensions differ, K is out of range, options are invalid, or ExcludeSelf is set but the queries are not the gallery.</exception>
    /// <exception cref="InvalidVectorException">A query is zero or not finite.</exception>
    public SearchStatistics Search(FeatureMatrix queries, SearchOptions options, INeighborSink sink, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        return SearchRange(queries, 0, queries.Rows, options, sink, progress, cancellationToken);
    }

    /// <summary>Searches <paramref name="queries"/> (their rows <see cref="NeighborQueries.Start"/> on) with <see cref="SearchDefaults"/>.</summary>
    /// <inheritdoc/>
    public ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var options = (SearchDefaults ?? new SearchOptions()) with { K = queries.K, ExcludeSelf = queries.ExcludeSelf };
        var results = new NeighborResults();
        results.Statistics = SearchRange(queries.Vectors, queries.Start, queries.QueryCount, options, results, null, cancellationToken);
        return ValueTask.FromResult(results);
    }

    /// <summary>Searches rows [<paramref name="first"/>, first + <paramref name="rows"/>) of <paramref name="queries"/>; the sink sees them as queries 0…rows − 1.</summary>
    private SearchStatistics SearchRange(FeatureMatrix queries, long first, long rows, SearchOptions options, INeighborSink sink, IProgress<SearchProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        Validate(queries, options);
        var clock = Stopwatch.StartNew();
        long nq = rows;
        int k = options.K;
        sink.Begin(nq, k);
        int batch = (int)Math.Min(options.QueryBatchSize, Math.Max(1, nq));
        var ids = new long[(long)batch * k];
        var sims = new float[(long)batch * k];
        long compared = 0, fallback = 0;
        for (long start = 0; start < nq; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = (int)Math.Min(batch, nq - start);
            (long Compared, long Fallback) block;
            try
            {
                block = SearchBlock(queries, first + start, count, options, ids, sims, cancellationToken);
            }
            catch (InvalidVectorException e) when (e.Matrix == "query" && e.Gallery is null)
            {
                throw new InvalidVectorException(e.Matrix, e.Row, e.Problem, e.FilePath ?? VectorNorms.Describe(queries), VectorNorms.Describe(Gallery));
            }

            compared += block.Compared;
            fallback += block.Fallback;
            sink.Write(start, ids.AsSpan(0, count * k), sims.AsSpan(0, count * k));
            progress?.Report(new SearchProgress(start + count, nq));
        }

        sink.Complete();
        return new SearchStatistics
        {
            Method = Method,
            Kernel = InnerProductKernel.Name,
            Queries = nq,
            K = k,
            GalleryRows = Gallery.Rows,
            Elapsed = clock.Elapsed,
            VectorsCompared = compared,
            FallbackQueries = fallback,
        };
    }

    /// <summary>Searches every row of <paramref name="queries"/> and returns the neighbors in memory.</summary>
    public NeighborResults Search(FeatureMatrix queries, SearchOptions options, CancellationToken cancellationToken = default)
    {
        var results = new NeighborResults();
        results.Statistics = Search(queries, options, results, null, cancellationToken);
        return results;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources (memory maps). The gallery is not disposed: it belongs to the caller.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>The gallery fingerprint, computed on first use (overridden by indexes that store it).</summary>
    private protected virtual GalleryFingerprint ComputeFingerprint() => GalleryFingerprint.Compute(Gallery);

    /// <summary>Checks options specific to the index.</summary>
    private protected virtual void ValidateOptions(SearchOptions options)
    {
    }

    /// <summary>
    /// Searches queries [start, start + count): writes count × K ids and similarities, best first.
    /// Returns the gallery vectors compared and the queries answered by fallback.
    /// </summary>
    private protected abstract (long Compared, long Fallback) SearchBlock(FeatureMatrix queries, long start, int count, SearchOptions options, Span<long> ids, Span<float> similarities, CancellationToken cancellationToken);

    private void Validate(FeatureMatrix queries, SearchOptions options)
    {
        if (queries.Columns != Gallery.Columns)
        {
            throw new ArgumentException($"The queries ({VectorNorms.Describe(queries)}) have dimension {queries.Columns} but the gallery ({VectorNorms.Describe(Gallery)}) has dimension {Gallery.Columns}; search a gallery made with the same image encoder.");
        }

        long available = Gallery.Rows - (options.ExcludeSelf ? 1 : 0);
        if (options.K < 1) throw new ArgumentOutOfRangeException(nameof(options), options.K, $"K must be at least 1 (got {options.K}).");
        if (options.K > available)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.K, options.ExcludeSelf
                ? $"K = {options.K} exceeds the {available} other rows of the {Gallery.Rows}-row gallery (ExcludeSelf leaves out the query itself)."
                : $"K = {options.K} exceeds the gallery's {Gallery.Rows} rows.");
        }

        if (options.QueryBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.QueryBatchSize, "QueryBatchSize must be at least 1.");
        if (options.MaxDegreeOfParallelism is < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be at least 1.");
        if (options.ExcludeSelf && !ReferenceEquals(queries, Gallery))
        {
            if (queries.Rows != Gallery.Rows)
            {
                throw new ArgumentException($"ExcludeSelf needs the query set to be the gallery (query row i = gallery row i), but there are {queries.Rows} queries and {Gallery.Rows} gallery rows (queries: {VectorNorms.Describe(queries)}; gallery: {VectorNorms.Describe(Gallery)}).");
            }

            var q = GalleryFingerprint.Compute(queries, GalleryFingerprint.SampleRows);
            if (q != GalleryFingerprint)
            {
                throw new ArgumentException($"ExcludeSelf needs the query set to be the gallery (query row i = gallery row i), but the queries ({VectorNorms.Describe(queries)}: {q}) differ from the gallery ({VectorNorms.Describe(Gallery)}: {GalleryFingerprint}).");
            }
        }

        ValidateOptions(options);
    }
}

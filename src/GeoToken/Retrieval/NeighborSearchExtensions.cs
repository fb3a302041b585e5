using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>Streaming use of any <see cref="INeighborSearch"/>.</summary>
public static class NeighborSearchExtensions
{
    /// <summary>Queries per block of <see cref="SearchInto"/> (as <see cref="SearchOptions.QueryBatchSize"/>).</summary>
    public const int BlockSize = 4096;

    /// <summary>
    /// Searches every row of <paramref name="queries"/> in blocks of <see cref="BlockSize"/>, writing each block's
    /// neighbors to <paramref name="sink"/> in query order (e.g. a <see cref="NeighborFileWriter"/>), after checking
    /// them (<see cref="NeighborResults.CheckFrom"/>).
    /// </summary>
    /// <param name="search">The search.</param>
    /// <param name="queries">The query vectors (the gallery itself with <paramref name="excludeSelf"/>).</param>
    /// <param name="k">Neighbors per query.</param>
    /// <param name="excludeSelf">Query row r never gets gallery row r (training neighbors).</param>
    /// <param name="sink">Receives the results.</param>
    /// <param name="progress">Queries done after each block.</param>
    /// <param name="cancellationToken">Checked between blocks; the sink is not completed when cancelled.</param>
    public static async Task SearchInto(this INeighborSearch search, FeatureMatrix queries, int k, bool excludeSelf, INeighborSink sink, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(sink);
        long n = queries.Rows;
        sink.Begin(n, k);
        for (long start = 0; start < n; start += BlockSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var block = new NeighborQueries { Vectors = queries, Start = start, Count = (int)Math.Min(BlockSize, n - start), K = k, ExcludeSelf = excludeSelf };
            var found = await search.SearchAsync(block, cancellationToken).ConfigureAwait(false);
            found.CheckFrom(search, block);
            sink.Write(start, found.Indices, found.Similarities);
            progress?.Report(new SearchProgress(start + block.QueryCount, n));
        }

        sink.Complete();
    }
}

namespace GeoToken.Model.Training;

/// <summary>
/// Training examples addressed by row index, which the <see cref="GeoTokenTrainer"/> reads in a shuffled
/// order each epoch. The data layer implements this over its datasets (e.g. memory-mapped features and
/// precomputed neighbor lists).
/// </summary>
public interface IGeoTokenBatchSource
{
    /// <summary>Examples available: rows 0 … Count − 1.</summary>
    int Count { get; }

    /// <summary>
    /// Materialises the examples at <paramref name="rows"/>, in that order, as one CPU batch with target
    /// tokens (see <see cref="GeoTokenBatch"/> for shapes). The caller owns, and disposes, the batch.
    /// </summary>
    GeoTokenBatch ReadBatch(ReadOnlySpan<int> rows);

    /// <summary>
    /// The batches of one pass over <paramref name="order"/>, <paramref name="batchSize"/> rows each (the
    /// last may be smaller). The default reads them one by one with <see cref="ReadBatch"/>; override it to
    /// prefetch on another thread. The consumer disposes each batch.
    /// </summary>
    IEnumerable<GeoTokenBatch> ReadBatches(ReadOnlyMemory<int> order, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (int start = 0; start < order.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ReadBatch(order.Span.Slice(start, Math.Min(batchSize, order.Length - start)));
        }
    }
}

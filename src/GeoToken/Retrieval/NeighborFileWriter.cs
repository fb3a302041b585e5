using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// An <see cref="INeighborSink"/> writing the neighbour files of a search: <c>PREFIX_I.npy</c>
/// (int64, queries × K, gallery rows best first) and <c>PREFIX_D.npy</c> (float32, queries × K,
/// cosine similarities), streamed block by block through <see cref="NpyWriter"/>. Both files are
/// written to temporary files and renamed into place only by <see cref="Complete"/> (which the search
/// calls after the last block); disposing earlier — a failed or cancelled search — deletes them and
/// leaves any previous files untouched.
/// </summary>
public sealed class NeighborFileWriter : INeighborSink, IDisposable
{
    private NpyWriter? _indices;
    private NpyWriter? _similarities;
    private bool _done;

    /// <summary>Prepares to write <c><paramref name="prefix"/>_I.npy</c> and <c><paramref name="prefix"/>_D.npy</c>.</summary>
    public NeighborFileWriter(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        IndicesPath = Path.GetFullPath(prefix + "_I.npy");
        SimilaritiesPath = Path.GetFullPath(prefix + "_D.npy");
    }

    /// <summary>The index file, <c>PREFIX_I.npy</c>.</summary>
    public string IndicesPath { get; }

    /// <summary>The similarity file, <c>PREFIX_D.npy</c>.</summary>
    public string SimilaritiesPath { get; }

    /// <inheritdoc/>
    public void Begin(long queryCount, int k)
    {
        if (_indices is not null) throw new InvalidOperationException("The neighbour files were already begun.");
        _indices = NpyWriter.Create(IndicesPath, NpyDataType.Int64, k, queryCount);
        _similarities = NpyWriter.Create(SimilaritiesPath, NpyDataType.Float32, k, queryCount);
    }

    /// <inheritdoc/>
    public void Write(long firstQuery, ReadOnlySpan<long> indices, ReadOnlySpan<float> similarities)
    {
        if (_indices is null || _similarities is null) throw new InvalidOperationException("Begin was not called.");
        int k = _indices.Columns!.Value;
        if (firstQuery != _indices.RowsWritten) throw new InvalidOperationException($"Blocks must arrive in order: expected query {_indices.RowsWritten}, got {firstQuery}.");
        if (indices.Length != similarities.Length || indices.Length % k != 0) throw new ArgumentException("Indices and similarities must both hold whole rows of K values.");
        _indices.WriteRows(indices);
        _similarities.WriteRows(similarities);
    }

    /// <inheritdoc/>
    public void Complete()
    {
        if (_indices is null || _similarities is null) throw new InvalidOperationException("Begin was not called.");
        // Finish both files before renaming either, so a failure leaves neither in place.
        _indices.Complete();
        _similarities.Complete();
        _indices.MoveIntoPlace();
        _similarities.MoveIntoPlace();
        _done = true;
    }

    /// <summary>Deletes the temporary files unless <see cref="Complete"/> ran.</summary>
    public void Dispose()
    {
        if (!_done)
        {
            _indices?.Dispose();
            _similarities?.Dispose();
        }

        _done = true;
    }
}

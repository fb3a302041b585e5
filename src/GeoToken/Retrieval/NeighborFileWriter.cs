using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// An <see cref="INeighborSink"/> writing the neighbor files of a search: <c>PREFIX_I.npy</c>
/// (int64, queries × K, gallery rows best first) and <c>PREFIX_D.npy</c> (float32, queries × K,
/// cosine similarities), streamed block by block through <see cref="NpyWriter"/>, and the sidecar
/// <c>PREFIX.json</c> with the SHA-256 of both and, when given, the <see cref="NeighborFileProvenance"/> (what
/// they were computed from). Both files are written to temporary files and renamed into place only by
/// <see cref="Complete"/> (which the search calls after the last block; the sidecar goes last); disposing
/// earlier — a failed or cancelled search — deletes them and leaves any previous files untouched.
/// </summary>
public sealed class NeighborFileWriter : INeighborSink, IDisposable
{
    private NpyWriter? _indices;
    private NpyWriter? _similarities;
    private readonly NeighborFileProvenance? _provenance;
    private bool _done;

    /// <summary>Prepares to write <c><paramref name="prefix"/>_I.npy</c>, <c><paramref name="prefix"/>_D.npy</c> and <c><paramref name="prefix"/>.json</c>.</summary>
    /// <param name="prefix">The output prefix.</param>
    /// <param name="provenance">What the neighbors are computed from, recorded in the sidecar (null: only the content hashes).</param>
    public NeighborFileWriter(string prefix, NeighborFileProvenance? provenance = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        IndicesPath = Path.GetFullPath(prefix + "_I.npy");
        SimilaritiesPath = Path.GetFullPath(prefix + "_D.npy");
        SidecarPath = NeighborFileManifest.PathFor(prefix);
        _provenance = provenance;
    }

    /// <summary>The sidecar, <c>PREFIX.json</c>: the content hashes of both files and their provenance.</summary>
    public string SidecarPath { get; }

    /// <summary>The index file, <c>PREFIX_I.npy</c>.</summary>
    public string IndicesPath { get; }

    /// <summary>The similarity file, <c>PREFIX_D.npy</c>.</summary>
    public string SimilaritiesPath { get; }

    /// <inheritdoc/>
    public void Begin(long queryCount, int k)
    {
        if (_indices is not null) throw new InvalidOperationException("The neighbor files were already begun.");
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
        var manifest = new NeighborFileManifest(_indices.RowsWritten, _indices.Columns!.Value,
            GeoToken.IO.FileHash.Sha256(_indices.TemporaryPath), GeoToken.IO.FileHash.Sha256(_similarities.TemporaryPath), _provenance);
        File.Delete(SidecarPath);
        _indices.MoveIntoPlace();
        _similarities.MoveIntoPlace();
        manifest.Write(SidecarPath);
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

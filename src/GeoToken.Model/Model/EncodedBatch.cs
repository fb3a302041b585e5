namespace GeoToken.Model;

/// <summary>
/// A batch after the encoder: the encoder output of every image, kept as the decoder's cross-attention keys and
/// values (<see cref="GeoTokenModel.EncodeBatch"/>). Greedy decoding, beam searches, candidate pools and pool scorers
/// (e.g. the reward head) each start their own decoder cache from it (<see cref="BeginDecoding"/>), so the encoder
/// runs once per batch however many of them run.
/// </summary>
/// <remarks>Owns the kept tensors (dispose it); refers to the batch without owning it. Not thread-safe.</remarks>
public sealed class EncodedBatch : IDisposable
{
    private readonly GeoTokenDecoderCache _prototype;
    private bool _disposed;

    internal EncodedBatch(GeoTokenModel model, GeoTokenBatch batch, GeoTokenDecoderCache prototype)
    {
        Model = model;
        Batch = batch;
        _prototype = prototype;
    }

    /// <summary>The model that encoded the batch.</summary>
    public GeoTokenModel Model { get; }

    /// <summary>The batch encoded (queries, neighbor features and tokens).</summary>
    public GeoTokenBatch Batch { get; }

    /// <summary>Images in the batch.</summary>
    public int Count => Batch.Count;

    /// <summary>
    /// A new decoder cache at position 0 over the kept encoder output (one row per image; the memory keys/values are
    /// shared, not recomputed). The caller owns and disposes it.
    /// </summary>
    public GeoTokenDecoderCache BeginDecoding()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _prototype.Fork();
    }

    /// <summary>Releases the kept encoder output (not the batch).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _prototype.Dispose();
    }
}

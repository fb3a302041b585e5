using GeoToken.Decoding;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// An ONNX Runtime batch after the encoder, as an <see cref="IEncodedBatch"/>: keeps the encoder's state at position 0
/// and starts every decoding from a fresh state that shares its encoder outputs.
/// </summary>
internal sealed class OnnxEncodedBatch(OnnxGeoTokenModel model, OnnxDecodingState encoded) : IEncodedBatch
{
    private bool _disposed;

    public IRuntimeModel Model => model;

    public int Count => encoded.Queries;

    public T Decode<T>(Func<IDecoderSession, T> search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        lock (model.InferenceGate)
        {
            using var state = model.Restart(encoded);
            return search(state);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        encoded.Dispose();
    }
}

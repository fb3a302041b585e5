using GeoToken.Model;
using static TorchSharp.torch;

namespace GeoToken.Decoding;

/// <summary>A TorchSharp batch after the encoder, as an <see cref="IEncodedBatch"/>: owns the batch's tensors and the kept encoder output.</summary>
internal sealed class TorchEncodedBatch(TorchRuntimeModel model, GeoTokenBatch tensors, EncodedBatch encoded) : IEncodedBatch
{
    public IRuntimeModel Model => model;

    /// <summary>The kept encoder output (for TorchSharp pool scorers such as the reward head).</summary>
    public EncodedBatch Encoded { get; } = encoded;

    public int Count => Encoded.Count;

    public T Decode<T>(Func<IDecoderSession, T> search, CancellationToken cancellationToken = default) => Run(Encoded, search, cancellationToken);

    /// <summary>
    /// Runs <paramref name="search"/> on a new cache started from <paramref name="encoded"/>'s kept encoder output,
    /// serialized on the model, in evaluation mode, inside a dispose scope without gradients.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is in training mode (dropout would make decoding random).</exception>
    internal static T Run<T>(EncodedBatch encoded, Func<IDecoderSession, T> search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        cancellationToken.ThrowIfCancellationRequested();
        var model = encoded.Model;
        lock (model.InferenceGate)
        {
            if (model.training)
            {
                throw new InvalidOperationException("The model is in training mode, so dropout would make decoding random; call model.eval() before searching.");
            }

            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var cache = encoded.BeginDecoding();
            return search(new TorchDecoderSession(cache, model.Device));
        }
    }

    public void Dispose()
    {
        Encoded.Dispose();
        tensors.Dispose();
    }
}

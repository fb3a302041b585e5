using System.Runtime.InteropServices;
using GeoToken.Model;
using static TorchSharp.torch;

namespace GeoToken.Decoding;

/// <summary>A <see cref="GeoTokenModel"/> as an <see cref="IRuntimeModel"/> (owns it).</summary>
internal sealed class TorchRuntimeModel(GeoTokenModel model, string path) : IRuntimeModel
{
    public GeoTokenModel Model { get; } = model;

    public string Runtime => TorchGeoTokenRuntime.RuntimeName;

    public string Path { get; } = path;

    public RuntimeModelInfo Info { get; } = TorchGeoTokenRuntime.Describe(model.Options, model.ParameterCount);

    public IEncodedBatch Encode(EncoderInputs inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        inputs.Validate(Info);
        cancellationToken.ThrowIfCancellationRequested();
        var o = Model.Options;
        int b = inputs.Count, m = o.ModalityCount, d = o.FeatureDimension, k = o.NeighborCount, t = o.SequenceLength;
        var batch = new GeoTokenBatch(
            tensor(Whole(inputs.QueryFeatures), [b, m, d]),
            tensor(Whole(inputs.NeighborFeatures), [b, k, m, d]),
            tensor(Whole(inputs.NeighborTokens), [b, k, t]));
        try
        {
            batch.To(Model.Device);
            return new TorchEncodedBatch(this, batch, Model.EncodeBatch(batch));
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();

    /// <summary>The array behind <paramref name="memory"/> when it spans a whole array (the pipeline's batches do), else a copy: <c>tensor</c> copies it once more into native memory either way.</summary>
    private static T[] Whole<T>(ReadOnlyMemory<T> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : memory.ToArray();
}

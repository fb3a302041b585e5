using GeoToken.Model;
using static TorchSharp.torch;

namespace GeoToken.Decoding;

/// <summary>The TorchSharp KV cache (<see cref="GeoTokenDecoderCache"/>) as an <see cref="IDecoderSession"/>: one small copy of the logits per step.</summary>
/// <remarks>Does not own the cache. Run inside the caller's dispose scope and <c>no_grad</c>.</remarks>
internal sealed class TorchDecoderSession(GeoTokenDecoderCache cache, Device device) : IDecoderSession
{
    public int Rows => cache.BatchSize;

    public void Expand(int copies) => cache.Expand(copies);

    public float[] Step(ReadOnlySpan<long> previousTokens)
    {
        using var scope = NewDisposeScope();
        var previous = previousTokens.IsEmpty ? null : tensor(previousTokens.ToArray(), device: device);
        return cache.StepLogits(previous).cpu().data<float>().ToArray();
    }

    public void Reorder(ReadOnlySpan<long> rows) => cache.Reorder(rows);
}

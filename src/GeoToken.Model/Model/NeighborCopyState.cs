using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>
/// The neighbor-copy head's part of a <see cref="GeoTokenDecoderCache"/>: the pointer keys and the neighbors'
/// tokens (one row per memory row, like the cross-attention keys/values) and, per decoded row, which neighbors
/// still agree with the prefix. Owned and disposed by the cache.
/// </summary>
internal sealed class NeighborCopyState(Tensor keys, Tensor neighborTokens, Tensor agrees) : IDisposable
{
    /// <summary>Pointer keys <c>[memory rows, k, d]</c>.</summary>
    public Tensor Keys { get; set; } = keys;

    /// <summary>The neighbors' tokens <c>[memory rows, k, T]</c> int64.</summary>
    public Tensor NeighborTokens { get; set; } = neighborTokens;

    /// <summary>Whether each neighbor's tokens so far equal the row's prefix <c>[rows, k]</c> bool.</summary>
    public Tensor Agrees { get; set; } = agrees;

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Keys.Dispose();
        NeighborTokens.Dispose();
        Agrees.Dispose();
    }
}

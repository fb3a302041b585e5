namespace GeoToken.Decoding;

/// <summary>
/// What the encoder reads for a batch of <see cref="Count"/> queries (<see cref="IRuntimeModel.Encode"/>), as flat
/// row-major arrays: the shapes are those of <see cref="RuntimeModelInfo"/> (M views of dimension D, k neighbors, T tokens).
/// </summary>
public sealed record EncoderInputs
{
    /// <summary>Queries in the batch, at least 1.</summary>
    public required int Count { get; init; }

    /// <summary>Query features <c>[Count, M, D]</c>.</summary>
    public required ReadOnlyMemory<float> QueryFeatures { get; init; }

    /// <summary>Neighbor features <c>[Count, k, M, D]</c>.</summary>
    public required ReadOnlyMemory<float> NeighborFeatures { get; init; }

    /// <summary>Neighbor tokens <c>[Count, k, T]</c>, each within its position's vocabulary.</summary>
    public required ReadOnlyMemory<long> NeighborTokens { get; init; }

    /// <summary>Throws unless the lengths fit <paramref name="info"/>.</summary>
    /// <exception cref="ArgumentException">The count is not positive or an array's length differs from its shape's; the message names it.</exception>
    public void Validate(RuntimeModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (Count < 1) throw new ArgumentException($"EncoderInputs.Count is {Count}; a batch needs at least one query.");
        long m = info.ModalityCount, d = info.FeatureDimension, k = info.NeighborCount, t = info.SequenceLength;
        Require(nameof(QueryFeatures), QueryFeatures.Length, Count * m * d, $"[{Count}, {m}, {d}]");
        Require(nameof(NeighborFeatures), NeighborFeatures.Length, Count * k * m * d, $"[{Count}, {k}, {m}, {d}]");
        Require(nameof(NeighborTokens), NeighborTokens.Length, Count * k * t, $"[{Count}, {k}, {t}]");
    }

    private static void Require(string name, long actual, long expected, string shape)
    {
        if (actual != expected) throw new ArgumentException($"EncoderInputs.{name} has {actual} values; the shape {shape} needs {expected}.");
    }
}

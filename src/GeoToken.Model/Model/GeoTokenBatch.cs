using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>
/// A batch of <c>B</c> queries with their retrieval context and, for training, their target tokens.
/// The batch owns its tensors: <see cref="Dispose"/> releases them.
/// </summary>
/// <remarks>
/// Shapes and types (<c>M</c> modalities, <c>d_in</c> feature dimension, <c>k</c> neighbors, <c>T</c> tokens):
/// <list type="table">
/// <item><term><see cref="QueryFeatures"/></term><description><c>[B, M, d_in]</c> float32</description></item>
/// <item><term><see cref="NeighborFeatures"/></term><description><c>[B, k, M, d_in]</c> float32</description></item>
/// <item><term><see cref="NeighborTokens"/></term><description><c>[B, k, T]</c> int64, raw per-position token values (no offsets)</description></item>
/// <item><term><see cref="TargetTokens"/></term><description><c>[B, T]</c> int64, or null when only predicting</description></item>
/// </list>
/// Feature vectors need not be normalised; the model L2-normalises their projections.
/// </remarks>
public sealed class GeoTokenBatch : IDisposable
{
    /// <summary>Wraps tensors; the batch takes ownership of them.</summary>
    public GeoTokenBatch(Tensor queryFeatures, Tensor neighborFeatures, Tensor neighborTokens, Tensor? targetTokens = null)
    {
        ArgumentNullException.ThrowIfNull(queryFeatures);
        ArgumentNullException.ThrowIfNull(neighborFeatures);
        ArgumentNullException.ThrowIfNull(neighborTokens);
        QueryFeatures = queryFeatures;
        NeighborFeatures = neighborFeatures;
        NeighborTokens = neighborTokens;
        TargetTokens = targetTokens;
    }

    /// <summary>The queries' feature views, <c>[B, M, d_in]</c> float32.</summary>
    public Tensor QueryFeatures { get; private set; }

    /// <summary>The neighbors' feature views, <c>[B, k, M, d_in]</c> float32.</summary>
    public Tensor NeighborFeatures { get; private set; }

    /// <summary>The neighbors' token sequences, <c>[B, k, T]</c> int64.</summary>
    public Tensor NeighborTokens { get; private set; }

    /// <summary>The queries' true token sequences, <c>[B, T]</c> int64; null when only predicting.</summary>
    public Tensor? TargetTokens { get; private set; }

    /// <summary>Queries in the batch, <c>B</c>.</summary>
    public int Count => (int)QueryFeatures.shape[0];

    /// <summary>Checks shapes and element types against <paramref name="options"/>.</summary>
    /// <param name="options">The model's options.</param>
    /// <param name="requireTargets">Whether <see cref="TargetTokens"/> must be present.</param>
    /// <exception cref="ArgumentException">A tensor has the wrong shape or type; the message names it.</exception>
    public void Validate(GeoTokenModelOptions options, bool requireTargets)
    {
        ArgumentNullException.ThrowIfNull(options);
        long b = QueryFeatures.shape.Length > 0 ? QueryFeatures.shape[0] : -1;
        int m = options.ModalityCount, din = options.FeatureDimension, k = options.NeighborCount, t = options.SequenceLength;
        Check(QueryFeatures, nameof(QueryFeatures), ScalarType.Float32, [b, m, din]);
        Check(NeighborFeatures, nameof(NeighborFeatures), ScalarType.Float32, [b, k, m, din]);
        Check(NeighborTokens, nameof(NeighborTokens), ScalarType.Int64, [b, k, t]);
        if (TargetTokens is not null)
        {
            Check(TargetTokens, nameof(TargetTokens), ScalarType.Int64, [b, t]);
        }
        else if (requireTargets)
        {
            throw new ArgumentException("TargetTokens is null; training needs the target token sequences [B, T].");
        }

        if (b < 1) throw new ArgumentException($"The batch has {b} queries; it needs at least one.");
    }

    /// <summary>Moves every tensor to <paramref name="device"/> (disposing the old ones when a copy was made).</summary>
    public GeoTokenBatch To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        QueryFeatures = Move(QueryFeatures, device);
        NeighborFeatures = Move(NeighborFeatures, device);
        NeighborTokens = Move(NeighborTokens, device);
        if (TargetTokens is not null) TargetTokens = Move(TargetTokens, device);
        return this;
    }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        QueryFeatures.Dispose();
        NeighborFeatures.Dispose();
        NeighborTokens.Dispose();
        TargetTokens?.Dispose();
    }

    private static Tensor Move(Tensor t, Device device)
    {
        if (t.device_type == device.type && t.device_index == device.index) return t;
        var moved = t.to(device);
        t.Dispose();
        return moved;
    }

    private static void Check(Tensor tensor, string name, ScalarType type, long[] shape)
    {
        if (tensor.dtype != type)
        {
            throw new ArgumentException($"{name} has element type {tensor.dtype}; expected {type}.");
        }

        if (!tensor.shape.SequenceEqual(shape))
        {
            throw new ArgumentException($"{name} has shape [{string.Join(", ", tensor.shape)}]; expected [{string.Join(", ", shape)}] ([B, …] with B from QueryFeatures).");
        }
    }
}

using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model.Training;

/// <summary>
/// The paper's training loss: per-position cross-entropy (mean over the batch), weighted linearly from
/// 2.0 at the face to 1.0 at the last position and normalised by the sum of the weights.
/// </summary>
public static class GeoTokenLoss
{
    /// <summary>Linearly spaced weights from <paramref name="first"/> (position 0) to <paramref name="last"/> (position length − 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive length, or a negative or non-finite weight.</exception>
    public static double[] PositionWeights(int length, double first = 2.0, double last = 1.0)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "A sequence has at least one position.");
        if (!(first >= 0) || !(last >= 0) || double.IsInfinity(first) || double.IsInfinity(last) || first + last == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(first), $"Position weights {first} → {last} must be finite, non-negative and not both zero.");
        }

        var w = new double[length];
        for (int p = 0; p < length; p++) w[p] = length == 1 ? first : first + (last - first) * p / (length - 1);
        return w;
    }

    /// <summary>
    /// The weighted loss <c>Σ_p w_p · CE(logits_p, targets[:, p]) / Σ_p w_p</c> as a scalar tensor.
    /// </summary>
    /// <param name="logits">One <c>[B, V_p]</c> tensor per position (as <see cref="GeoTokenModel.Forward"/> returns).</param>
    /// <param name="targets">int64 <c>[B, T]</c>.</param>
    /// <param name="weights">One weight per position (<see cref="PositionWeights"/>).</param>
    public static Tensor Compute(IReadOnlyList<Tensor> logits, Tensor targets, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(weights);
        if (logits.Count != weights.Count || targets.dim() != 2 || targets.shape[1] != logits.Count)
        {
            throw new ArgumentException($"Got {logits.Count} logit tensors, {weights.Count} weights and targets of shape [{string.Join(", ", targets.shape)}]; expected one of each per position.");
        }

        using var scope = NewDisposeScope();
        double total = weights.Sum();
        Tensor? loss = null;
        for (int p = 0; p < logits.Count; p++)
        {
            var term = F.cross_entropy(logits[p], targets.select(1, p)).mul(weights[p] / total);
            loss = loss is null ? term : loss.add_(term, Scalars.One);
        }

        return loss!.MoveToOuterDisposeScope();
    }
}

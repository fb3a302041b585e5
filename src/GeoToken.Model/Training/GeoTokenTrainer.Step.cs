using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

// One optimizer step: gradient accumulation, the bfloat16 replica, clipping, the learning rate of the step.
public sealed partial class GeoTokenTrainer
{
    /// <summary>
    /// One optimizer step on <paramref name="batch"/> (moved to the model's device; not disposed) at the
    /// current epoch's learning rate; advances <see cref="GlobalStep"/> and returns the loss.
    /// Does not advance <see cref="StepInEpoch"/> (that is <see cref="Train"/>'s bookkeeping).
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss is NaN or infinite (the weights are left unchanged).</exception>
    public double TrainStep(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return TrainStep([batch]);
    }

    /// <summary>
    /// One optimizer step on the rows of all <paramref name="batches"/> together (gradient accumulation): each batch's
    /// mean loss is weighted by its share of the rows before its backward pass, so the gradient is that of the mean loss
    /// over the concatenated batches. Batches are moved to the model's device, not disposed. Advances
    /// <see cref="GlobalStep"/> by one and returns the mean loss over all rows.
    /// </summary>
    /// <exception cref="ArgumentException">No batches.</exception>
    /// <exception cref="InvalidOperationException">A loss is NaN or infinite (the weights are left unchanged).</exception>
    public double TrainStep(IReadOnlyList<GeoTokenBatch> batches)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 0) throw new ArgumentException("TrainStep needs at least one batch.", nameof(batches));
        long total = 0;
        foreach (var b in batches) total += (b ?? throw new ArgumentException("A batch is null.", nameof(batches))).Count;
        Model.train();
        Model.zero_grad(set_to_none: true);
        var forward = _replica ?? Model;
        Tensor?[]? sums = null; // bfloat16: the gradients summed in float32
        if (_replica is not null)
        {
            using var noGrad = no_grad();
            for (int i = 0; i < _masterParameters.Length; i++) _replicaParameters[i].copy_(_masterParameters[i]);
            _replica.train();
            sums = new Tensor?[_masterParameters.Length];
        }

        try
        {
            double lossSum = 0;
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                batch.To(Model.Device);
                var logits = forward.Forward(batch);
                if (_replica is not null) logits = [.. logits.Select(l => l.to_type(ScalarType.Float32))];
                var loss = GeoTokenLoss.Compute(logits, batch.TargetTokens!, _weights);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                {
                    Model.zero_grad(set_to_none: true);
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"The training loss is {value} at epoch {Epoch}, step {StepInEpoch} (global step {GlobalStep}); the weights were not updated. Lower the learning rate, add warm-up or gradient clipping, or check the inputs for NaN."));
                }

                lossSum += value * batch.Count;
                if (batches.Count == 1) loss.backward();
                else loss.mul(batch.Count / (double)total).backward();
                if (sums is not null) AccumulateReplicaGradients(sums);
            }

            if (Options.MaxGradientNorm is double maxNorm)
            {
                if (sums is null) nn.utils.clip_grad_norm_(Model.parameters(), maxNorm);
                else ClipGradientNorm(sums, maxNorm);
            }

            _optimizer.LearningRate = Options.LearningRateAt(Epoch, GlobalStep);
            if (sums is null) _optimizer.Step();
            else _optimizer.Step(i => sums[i]);
            GlobalStep++;
            return lossSum / total;
        }
        finally
        {
            if (sums is not null)
            {
                foreach (var t in sums) t?.Dispose();
            }
        }
    }

    /// <summary>Adds the replica's bfloat16 gradients, in float32, to <paramref name="sums"/>, and clears the replica's.</summary>
    private void AccumulateReplicaGradients(Tensor?[] sums)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < sums.Length; i++)
        {
            var g = _replicaParameters[i].grad;
            if (g is null) continue;
            if (sums[i] is null) sums[i] = g.to_type(ScalarType.Float32).DetachFromDisposeScope();
            else sums[i]!.add_(g.to_type(ScalarType.Float32));
        }

        _replica!.zero_grad(set_to_none: true);
    }

    /// <summary>Scales <paramref name="grads"/> so that their global L2 norm is at most <paramref name="maxNorm"/> (as <c>clip_grad_norm_</c>).</summary>
    private static void ClipGradientNorm(Tensor?[] grads, double maxNorm)
    {
        using var scope = NewDisposeScope();
        double sq = 0;
        foreach (var g in grads)
        {
            if (g is not null) sq += g.to_type(ScalarType.Float64).square().sum().item<double>();
        }

        double coef = maxNorm / (Math.Sqrt(sq) + 1e-6);
        if (coef >= 1) return;
        using var c = coef.ToScalar();
        foreach (var g in grads) g?.mul_(c);
    }
}

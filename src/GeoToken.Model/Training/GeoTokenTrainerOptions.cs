using System.Globalization;
using System.Text.Json.Serialization;

namespace GeoToken.Model.Training;

/// <summary>
/// Settings of a <see cref="GeoTokenTrainer"/>. Defaults follow the paper except the batch size (paper: 2048, reached with
/// <see cref="GradientAccumulationSteps"/> 8) and the precision (paper: bfloat16, <see cref="Precision"/>); see
/// <c>GeoTokenRecipe.Paper</c>.
/// </summary>
public sealed record GeoTokenTrainerOptions
{
    /// <summary>Epochs to train in all (default 50, as the paper). A resumed run continues up to this number.</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>
    /// Examples per forward pass (default 256; the paper used 2048 on a GPU). An optimizer step takes
    /// <see cref="GradientAccumulationSteps"/> such batches (<see cref="EffectiveBatchSize"/>).
    /// </summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// Batches of <see cref="BatchSize"/> whose gradients are summed before each optimizer step (default 1). Each batch's
    /// mean loss is weighted by its share of the step's rows, so the step's gradient is the gradient of the mean loss
    /// over all its rows: accumulation 8 of batch 256 trains like batch 2048 (the paper's), in the memory of 256
    /// (dropout masks aside). An epoch's last step may have fewer rows.
    /// </summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Examples per optimizer step: <see cref="BatchSize"/> × <see cref="GradientAccumulationSteps"/>.</summary>
    [JsonIgnore]
    public int EffectiveBatchSize => checked(BatchSize * GradientAccumulationSteps);

    /// <summary>The number format of the forward and backward passes (default <see cref="TrainingPrecision.Float32"/>; the reference trains in bfloat16 autocast).</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>Whether an epoch's last, smaller batch is skipped (default false: it is trained on).</summary>
    public bool DropLastPartialBatch { get; init; }

    /// <summary>AdamW learning rate at epoch 0 after warm-up (default 5e-5, as the paper).</summary>
    public double LearningRate { get; init; } = 5e-5;

    /// <summary>AdamW decoupled weight decay (default 1e-6, as the paper).</summary>
    public double WeightDecay { get; init; } = 1e-6;

    /// <summary>AdamW first-moment decay (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW second-moment decay (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW denominator term (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Multiplier applied to the learning rate after every epoch (step decay; default 0.9, as the paper). 1 disables decay.</summary>
    public double LearningRateDecay { get; init; } = 0.9;

    /// <summary>Optimizer steps over which the learning rate rises linearly from lr/WarmupSteps to lr (default 0: no warm-up).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Clip the global L2 norm of the gradients to this value before each step; null (default, as the paper) disables clipping.</summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>Loss weight of position 0, the face (default 2.0).</summary>
    public double FirstPositionWeight { get; init; } = 2.0;

    /// <summary>Loss weight of the last position (default 1.0); positions in between are interpolated linearly.</summary>
    public double LastPositionWeight { get; init; } = 1.0;

    /// <summary>
    /// Seed of the run (default 0): seeds torch's global generator (dropout) when training starts from
    /// scratch, and the trainer's own generator that shuffles each epoch's row order.
    /// </summary>
    public ulong Seed { get; init; }

    /// <summary>Where <see cref="GeoTokenTrainer.Train"/> writes checkpoints (after every epoch, every <see cref="CheckpointEverySteps"/> steps and on cancellation); null (default) writes none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Also checkpoint every this many optimizer steps within an epoch; 0 (default) only at epoch ends.</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Report progress every this many steps (default 10), and always at the end of an epoch.</summary>
    public int ProgressEverySteps { get; init; } = 10;

    /// <summary>
    /// Stop after this much training time (checked after every step; the run is checkpointed and can be
    /// resumed); null (default) trains every epoch.
    /// </summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        static void Require(bool ok, FormattableString message)
        {
            if (!ok) throw new ArgumentException(message.ToString(CultureInfo.InvariantCulture));
        }

        Require(Epochs >= 0, $"Epochs is {Epochs}; it must not be negative.");
        Require(BatchSize >= 1, $"BatchSize is {BatchSize}; it must be at least 1.");
        Require(GradientAccumulationSteps >= 1, $"GradientAccumulationSteps is {GradientAccumulationSteps}; it must be at least 1.");
        Require((long)BatchSize * GradientAccumulationSteps <= int.MaxValue, $"BatchSize {BatchSize} × GradientAccumulationSteps {GradientAccumulationSteps} exceeds {int.MaxValue} examples per step.");
        Require(Enum.IsDefined(Precision), $"Precision is {(int)Precision}, not a TrainingPrecision.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate is {LearningRate}; it must be positive and finite.");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"WeightDecay is {WeightDecay}; it must be non-negative and finite.");
        Require(Beta1 is >= 0 and < 1, $"Beta1 is {Beta1}; it must be in [0, 1).");
        Require(Beta2 is >= 0 and < 1, $"Beta2 is {Beta2}; it must be in [0, 1).");
        Require(Epsilon >= 0 && double.IsFinite(Epsilon), $"Epsilon is {Epsilon}; it must be non-negative and finite.");
        Require(LearningRateDecay > 0 && double.IsFinite(LearningRateDecay), $"LearningRateDecay is {LearningRateDecay}; it must be positive and finite.");
        Require(MaxDuration is null || MaxDuration > TimeSpan.Zero, $"MaxDuration is {MaxDuration}; it must be positive, or null.");
        Require(WarmupSteps >= 0, $"WarmupSteps is {WarmupSteps}; it must not be negative.");
        Require(MaxGradientNorm is null || (MaxGradientNorm > 0 && double.IsFinite(MaxGradientNorm.Value)), $"MaxGradientNorm is {MaxGradientNorm}; it must be positive and finite, or null.");
        Require(FirstPositionWeight >= 0 && LastPositionWeight >= 0 && FirstPositionWeight + LastPositionWeight > 0 && double.IsFinite(FirstPositionWeight + LastPositionWeight),
            $"Position weights {FirstPositionWeight} → {LastPositionWeight} must be finite, non-negative and not both zero.");
        Require(CheckpointEverySteps >= 0, $"CheckpointEverySteps is {CheckpointEverySteps}; it must not be negative.");
        Require(ProgressEverySteps >= 1, $"ProgressEverySteps is {ProgressEverySteps}; it must be at least 1.");
    }

    /// <summary>The learning rate of a step: <c>LearningRate · LearningRateDecay^epoch</c>, times <c>min(1, (globalStep + 1) / WarmupSteps)</c> during warm-up.</summary>
    public double LearningRateAt(int epoch, long globalStep)
    {
        double lr = LearningRate * Math.Pow(LearningRateDecay, epoch);
        if (WarmupSteps > 0 && globalStep < WarmupSteps) lr *= (globalStep + 1) / (double)WarmupSteps;
        return lr;
    }
}

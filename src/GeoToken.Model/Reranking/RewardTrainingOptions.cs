using GeoToken.Model.Decoding;

namespace GeoToken.Model.Reranking;

/// <summary>How <see cref="RewardTrainer"/> fine-tunes a <see cref="RewardHead"/>.</summary>
public sealed record RewardTrainingOptions
{
    /// <summary>Passes over the training rows (default 1).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Images per step; each contributes its whole candidate pool (default 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Use at most this many (randomly chosen) training rows per epoch (default: all).</summary>
    public int? MaxRows { get; init; }

    /// <summary>AdamW learning rate of the head (default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW weight decay (default 1e-4).</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>
    /// The pools the head learns to rank (default: the paper's, greedy + 30 samples at T = 0.7 — the pools it will
    /// rank at test time).
    /// </summary>
    public CandidatePoolOptions Pool { get; init; } = new();

    /// <summary>Seed of the row order and of the sampling streams (default 1).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Report progress every this many steps (default 10).</summary>
    public int ProgressEverySteps { get; init; } = 10;

    /// <summary>Throws unless every setting is usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"RewardTrainingOptions.Epochs is {Epochs}; it must be at least 1.");
        if (BatchSize < 1) throw new ArgumentException($"RewardTrainingOptions.BatchSize is {BatchSize}; it must be at least 1.");
        if (MaxRows is < 1) throw new ArgumentException($"RewardTrainingOptions.MaxRows is {MaxRows}; it must be at least 1.");
        if (!(LearningRate > 0)) throw new ArgumentException($"RewardTrainingOptions.LearningRate is {LearningRate}; it must be positive.");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"RewardTrainingOptions.WeightDecay is {WeightDecay}; it must not be negative.");
        if (ProgressEverySteps < 1) throw new ArgumentException($"RewardTrainingOptions.ProgressEverySteps is {ProgressEverySteps}; it must be at least 1.");
        Pool.Validate();
    }
}

/// <summary>Progress of <see cref="RewardTrainer.Train"/>.</summary>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="Loss">Mean class-balanced binary cross-entropy of the recent steps.</param>
/// <param name="Accuracy">Fraction of the recent steps' candidates classified correctly.</param>
/// <param name="PositiveRate">Fraction of the recent steps' candidates within the threshold.</param>
public sealed record RewardTrainingProgress(int Epoch, int Step, int StepsPerEpoch, double Loss, double Accuracy, double PositiveRate);

/// <summary>What <see cref="RewardTrainer.Train"/> did.</summary>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Candidates">Candidates the head was trained on.</param>
/// <param name="EpochLosses">Mean loss of each epoch.</param>
/// <param name="EpochAccuracies">Classification accuracy of each epoch (on the training pools).</param>
/// <param name="PositiveRate">Fraction of all candidates within the threshold.</param>
public sealed record RewardTrainingResult(long Steps, long Candidates, IReadOnlyList<double> EpochLosses, IReadOnlyList<double> EpochAccuracies, double PositiveRate);

using GeoToken.Decoding;
using GeoToken.Reranking;

namespace GeoToken.Model.Training;

/// <summary>How <see cref="RewardTrainer"/> fine-tunes a <see cref="RewardHead"/>.</summary>
/// <remarks>
/// The defaults are GeoToken.NET's: a head of width d with one logit on the frozen model, class-balanced binary
/// cross-entropy, 1 epoch at 1e-3. <see cref="Reference"/> is the reference implementation's recipe.
/// </remarks>
public sealed record RewardTrainingOptions
{
    /// <summary>
    /// The reference's reward training (<c>train_reward_n.py</c>): a head of hidden width 2048 (the script's default;
    /// its <c>RewardScorer</c> class defaults to 128) with two bins (within / beyond 200 km, 2-class cross-entropy, not
    /// class-balanced), the whole transformer fine-tuned with the head (dropout off, as its model stays in evaluation
    /// mode), AdamW at 5e-5 with PyTorch's default weight decay 0.01, the learning rate times 0.9 after every epoch,
    /// 40 epochs of batches of 512 images, each image's 10 samples at T = 0.7 (no greedy candidate) as raw samples
    /// (a cell drawn k times counts k times). Selection at test time: <see cref="GeoToken.Reranking.RewardSelection.Reference"/>.
    /// </summary>
    public static RewardTrainingOptions Reference { get; } = new()
    {
        HiddenDimension = 2048,
        Output = RewardHeadOutput.TwoBins,
        FineTuneModel = true,
        ClassBalanced = false,
        WeightBySampleCount = true,
        Epochs = 40,
        BatchSize = 512,
        LearningRate = 5e-5,
        WeightDecay = 0.01,
        LearningRateDecay = 0.9,
        Pool = new CandidatePoolOptions { Greedy = false, Samples = 10, Temperature = 0.7, ScoreWith = SampleScore.Tempered },
    };

    /// <summary>Hidden width of a head <see cref="RewardTrainingRun"/> creates (default null: the model's d; the reference's 2048).</summary>
    public int? HiddenDimension { get; init; }

    /// <summary>The output of a head <see cref="RewardTrainingRun"/> creates (default one logit; the reference's two bins).</summary>
    public RewardHeadOutput Output { get; init; } = RewardHeadOutput.Logit;

    /// <summary>
    /// Fine-tune a copy of the whole transformer together with the head (default false: the model is frozen and only the
    /// head learns). The copy becomes the head's <see cref="RewardHead.ScorerModel"/>; pools are still sampled from the
    /// unchanged model, as the reference samples them once beforehand.
    /// </summary>
    public bool FineTuneModel { get; init; }

    /// <summary>Weight the rarer class up so both classes weigh the same, up to 50× (default true; the reference does not).</summary>
    public bool ClassBalanced { get; init; } = true;

    /// <summary>
    /// Weight each merged candidate by how many samples drew it, as training on the raw samples would (default false: each
    /// distinct cell once; the reference trains on raw samples).
    /// </summary>
    public bool WeightBySampleCount { get; init; }

    /// <summary>Multiplier of the learning rate after every epoch (default 1: constant; the reference's 0.9).</summary>
    public double LearningRateDecay { get; init; } = 1;

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
        if (HiddenDimension is < 1) throw new ArgumentException($"RewardTrainingOptions.HiddenDimension is {HiddenDimension}; it must be at least 1.");
        if (!Enum.IsDefined(Output)) throw new ArgumentException($"RewardTrainingOptions.Output is {(int)Output}, not a RewardHeadOutput.");
        if (!(LearningRateDecay > 0) || !double.IsFinite(LearningRateDecay)) throw new ArgumentException($"RewardTrainingOptions.LearningRateDecay is {LearningRateDecay}; it must be positive and finite.");
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

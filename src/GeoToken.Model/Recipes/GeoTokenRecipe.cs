using GeoToken.Decoding;
using GeoToken.Model.Training;
using GeoToken.Reranking;

namespace GeoToken.Model.Recipes;

/// <summary>
/// One switch between GeoToken.NET's defaults and the reference implementation's choices (the GeoToken authors' released
/// code), so that results can be compared with the paper's. Each member gives the options of one stage; the MLLM judge's
/// are <c>GeoToken.AI.Judging.MllmJudgeOptions.Reference(mode)</c> (a project this one does not reference).
/// README, "Paper recipe vs GeoToken.NET defaults", lists every choice with its source and why ours differs.
/// </summary>
public sealed class GeoTokenRecipe
{
    /// <summary>The reference's effective training batch (<c>train_transformer_c_n_grouped.py</c>: <c>--batch_size 2048</c>).</summary>
    public const int PaperBatchSize = 2048;

    private GeoTokenRecipe(string name, bool paper)
    {
        Name = name;
        IsPaper = paper;
    }

    /// <summary>GeoToken.NET's defaults (every options type's own defaults).</summary>
    public static GeoTokenRecipe Default { get; } = new("default", paper: false);

    /// <summary>
    /// The reference implementation's choices: the <c>paper</c> model preset; AdamW at 5e-5, weight decay 1e-6, the
    /// learning rate times 0.9 after every epoch, 50 epochs, batches of 2048 (by gradient accumulation), bfloat16 forward
    /// passes, no warm-up or clipping, position weights 2 → 1; one-stage beam search of width 5; pool samples scored under
    /// their tempered distribution; the reward head of <see cref="RewardTrainingOptions.Reference"/> with
    /// <see cref="RewardSelection.Reference"/>.
    /// </summary>
    public static GeoTokenRecipe Paper { get; } = new("paper", paper: true);

    /// <summary>The recipe's name: <c>default</c> or <c>paper</c>.</summary>
    public string Name { get; }

    /// <summary>Whether this is <see cref="Paper"/>.</summary>
    public bool IsPaper { get; }

    /// <summary>The recipe named <paramref name="name"/> (<c>default</c> or <c>paper</c>, any case).</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static GeoTokenRecipe Parse(string name) => name?.ToLowerInvariant() switch
    {
        "default" => Default,
        "paper" => Paper,
        _ => throw new ArgumentException($"Recipe '{name}' is unknown; use default or paper.", nameof(name)),
    };

    /// <summary>The model preset the recipe trains (<c>paper</c>), or null to keep the caller's.</summary>
    public string? Preset => IsPaper ? "paper" : null;

    /// <summary>
    /// Training options: the defaults, or the reference's with batches of <paramref name="microBatch"/> accumulated to
    /// <see cref="PaperBatchSize"/> rows per step.
    /// </summary>
    /// <param name="microBatch">Rows per forward pass (paper recipe only); must divide 2048.</param>
    /// <exception cref="ArgumentException"><paramref name="microBatch"/> does not divide 2048.</exception>
    public GeoTokenTrainerOptions Trainer(int microBatch = 256)
    {
        if (!IsPaper) return new GeoTokenTrainerOptions();
        if (microBatch < 1 || PaperBatchSize % microBatch != 0)
        {
            throw new ArgumentException($"The paper recipe accumulates batches to {PaperBatchSize} rows per step; a batch of {microBatch} does not divide it (use a power of two up to {PaperBatchSize}).", nameof(microBatch));
        }

        return new GeoTokenTrainerOptions
        {
            Epochs = 50,
            BatchSize = microBatch,
            GradientAccumulationSteps = PaperBatchSize / microBatch,
            LearningRate = 5e-5,
            WeightDecay = 1e-6,
            LearningRateDecay = 0.9,
            WarmupSteps = 0,
            MaxGradientNorm = null,
            FirstPositionWeight = 2.0,
            LastPositionWeight = 1.0,
            Precision = TrainingPrecision.BFloat16,
        };
    }

    /// <summary>Beam search: two-stage (ours) or the reference's one stage (<c>CommitLevel = null</c>), width 5 either way.</summary>
    public BeamSearchOptions BeamSearch => IsPaper ? new BeamSearchOptions { CommitLevel = null } : new BeamSearchOptions();

    /// <summary>The candidate pool, greedy + 30 samples at T = 0.7 either way; the reference scores samples tempered.</summary>
    public CandidatePoolOptions Pool => IsPaper ? new CandidatePoolOptions { ScoreWith = SampleScore.Tempered } : new CandidatePoolOptions();

    /// <summary>Sampling options (30 at T = 0.7 either way); the reference scores samples tempered.</summary>
    public SamplingOptions Sampling => IsPaper ? new SamplingOptions { ScoreWith = SampleScore.Tempered } : new SamplingOptions();

    /// <summary>How the reward head is trained: ours, or <see cref="RewardTrainingOptions.Reference"/>.</summary>
    public RewardTrainingOptions RewardTraining => IsPaper ? RewardTrainingOptions.Reference : new RewardTrainingOptions();

    /// <summary>How the reward reranker picks: the highest reward, or the reference's rule.</summary>
    public RewardSelection RewardSelection => IsPaper ? RewardSelection.Reference : RewardSelection.MostLikelyWithin;

    /// <inheritdoc/>
    public override string ToString() => Name;
}

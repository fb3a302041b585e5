using GeoToken.Decoding;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GeoToken.Evaluation;

/// <summary>What <see cref="EvaluationRun"/> evaluates (the <c>geotoken eval</c> command's options).</summary>
public sealed record EvaluationRunOptions
{
    /// <summary>
    /// The model: a model folder, its <c>config.json</c> or a <c>.gtm</c> file (TorchSharp), or a folder written by
    /// <c>geotoken export onnx</c> (ONNX Runtime); the first of <see cref="Runtimes"/> that recognises it runs it.
    /// </summary>
    public required string ModelPath { get; init; }

    /// <summary>The runtimes the model may run on, tried in order (see <see cref="GeoTokenRuntimes.Open"/>). Required.</summary>
    public IReadOnlyList<IGeoTokenRuntime> Runtimes { get; init; } = [];

    /// <summary>The gallery dataset folder (the training set the model was trained with).</summary>
    public required string GalleryDirectory { get; init; }

    /// <summary>The query dataset folder (test or validation images with their true locations).</summary>
    public required string QueryDirectory { get; init; }

    /// <summary>Evaluate only the first this many queries (default: all).</summary>
    public int? MaxQueries { get; init; }

    /// <summary>Images decoded together (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Beam width of every beam strategy (default 5).</summary>
    public int BeamWidth { get; init; } = 5;

    /// <summary>
    /// Beam searches evaluated, each a strategy (default: <c>beam</c>, the default two-stage search committing at
    /// level 6, and <c>beam-paper</c>, the paper's one-stage search; see <see cref="BeamSearchOptions.CommitLevel"/>).
    /// </summary>
    public IReadOnlyList<NamedBeamSearch> BeamSearches { get; init; } = DefaultBeamSearches();

    /// <summary>
    /// The default <see cref="BeamSearches"/>, with <c>beam</c> committing at <paramref name="commitLevel"/> to the cell
    /// chosen by <paramref name="commitScore"/>.
    /// </summary>
    public static IReadOnlyList<NamedBeamSearch> DefaultBeamSearches(int commitLevel = BeamSearchOptions.DefaultCommitLevel, BeamCommitScore commitScore = BeamCommitScore.HierarchyMass) =>
        [new("beam", new BeamSearchOptions { CommitLevel = commitLevel, CommitScore = commitScore }), new("beam-paper", new BeamSearchOptions { CommitLevel = null })];

    /// <summary>The candidate pool the rerankers choose from (default: the paper's, greedy + 30 samples at T = 0.7).</summary>
    public CandidatePoolOptions Pool { get; init; } = new();

    /// <summary>
    /// Rerankers of the pool, each a strategy (default: <c>logprob</c>, <c>consensus</c> and <c>mbr</c>; add
    /// similarity, reward or judge rerankers here).
    /// </summary>
    public IReadOnlyList<IReranker> Rerankers { get; init; } = [new LogProbReranker(), new ConsensusReranker(), new MbrReranker()];

    /// <summary>
    /// Pool scorers run on every batch (e.g. the reward head's <c>RewardScorer</c>, TorchSharp only; not owned). With a
    /// scorer named <c>reward</c> the <c>reward</c> strategy (<see cref="RewardReranker"/>) is evaluated too.
    /// </summary>
    public IReadOnlyList<IPoolScorer> Scorers { get; init; } = [];

    /// <summary>Direct predictors, each a strategy named after it (e.g. the GPS gallery).</summary>
    public IReadOnlyList<ICandidateGenerator> Generators { get; init; } = [];

    /// <summary>Where neighbor files are kept and how they are computed when absent.</summary>
    public NeighborCacheOptions Neighbors { get; init; } = new();

    /// <summary>Where the evaluation logs loading, neighbor files, batches and reranker fallbacks (default: nowhere).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The pool mass whose radius is reported as uncertainty (default 0.9).</summary>
    public double UncertaintyMass { get; init; } = 0.9;
}

using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Orders candidates by the learned reward head's probability that they lie within 200 km of the truth (the paper's
/// reward model): the pool scores named <c>reward</c> (in GeoToken.Model, the <c>RewardScorer</c> pool scorer, which
/// reads the encoder output kept for decoding). Without them it throws <see cref="RerankerException"/> so that a
/// <see cref="FallbackReranker"/> can move on. <see cref="RewardSelection.Reference"/> applies the reference
/// implementation's rule instead (reported as <c>reward-paper</c>).
/// </summary>
public sealed class RewardReranker : PoolScoreReranker
{
    /// <summary>The name of the reward scorer's scores (<c>reward</c>).</summary>
    public const string ScorerName = "reward";

    /// <summary>A reranker choosing by <paramref name="selection"/> (default: the highest reward).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="selection"/> is not a defined value.</exception>
    public RewardReranker(RewardSelection selection = RewardSelection.MostLikelyWithin)
        : base(ScorerName, selection == RewardSelection.Reference ? "reward-paper" : ScorerName)
    {
        if (!Enum.IsDefined(selection)) throw new ArgumentOutOfRangeException(nameof(selection), selection, "Not a RewardSelection.");
        Selection = selection;
    }

    /// <summary>How the candidate is chosen.</summary>
    public RewardSelection Selection { get; }

    /// <inheritdoc/>
    protected override async ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var scores = (await base.ScoreAsync(query, pool, cancellationToken).ConfigureAwait(false)).ToArray();

        // The reference's rule: when no candidate is in the "within" bin, the most confident of the "beyond" bin.
        if (Selection == RewardSelection.Reference && scores.Length > 0 && scores.Max() < 0.5)
        {
            for (int i = 0; i < scores.Length; i++) scores[i] = 1 - scores[i];
        }

        return scores;
    }
}

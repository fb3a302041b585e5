namespace GeoToken.Reranking;

/// <summary>
/// Orders candidates by the learned reward head's probability that they lie within 200 km of the truth (the paper's
/// reward model): the pool scores named <c>reward</c> (in GeoToken.Model, the <c>RewardScorer</c> pool scorer, which
/// reads the encoder output kept for decoding). Without them it throws <see cref="RerankerException"/> so that a
/// <see cref="FallbackReranker"/> can move on.
/// </summary>
public sealed class RewardReranker() : PoolScoreReranker(ScorerName)
{
    /// <summary>The name of the reward scorer's scores (<c>reward</c>).</summary>
    public const string ScorerName = "reward";
}

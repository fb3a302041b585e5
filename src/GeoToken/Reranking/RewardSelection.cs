namespace GeoToken.Reranking;

/// <summary>How <see cref="RewardReranker"/> picks from a pool scored by a reward head.</summary>
public enum RewardSelection
{
    /// <summary>The candidate most likely within the threshold (highest <c>reward</c> pool score; GeoToken.NET's default).</summary>
    MostLikelyWithin,

    /// <summary>
    /// The reference's rule (<c>train_reward_n.py</c>): each candidate is put in its more likely bin ("within" when its
    /// reward is at least 0.5); among the candidates of the best bin any candidate reached, the most confident one wins.
    /// It equals <see cref="MostLikelyWithin"/> when some candidate's reward is ≥ 0.5; when none is, it picks the candidate
    /// most confidently <em>beyond</em> the threshold (the lowest reward), where ours picks the highest.
    /// </summary>
    Reference,
}

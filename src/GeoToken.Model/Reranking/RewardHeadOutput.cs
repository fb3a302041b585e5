
namespace GeoToken.Reranking;

/// <summary>What a <see cref="RewardHead"/>'s last layer outputs.</summary>
public enum RewardHeadOutput
{
    /// <summary>One logit of "within the threshold", trained with binary cross-entropy (GeoToken.NET's default).</summary>
    Logit,

    /// <summary>
    /// Two bins, "within the threshold" and "beyond it", trained with 2-class cross-entropy (the reference's
    /// <c>RewardScorer</c>, <c>train_reward_n.py</c>). The head's logit of "within" is the difference of the two.
    /// </summary>
    TwoBins,
}

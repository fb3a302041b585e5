using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Orders candidates by <see cref="GeoCandidate.Reward"/>: the learned reward head's probability that the
/// candidate is within 200 km of the truth (the paper's reward model). The pool must have been scored by a
/// reward head (in GeoToken.Model, a <c>CandidatePoolBuilder</c> given a <c>RewardHead</c>); otherwise it throws
/// <see cref="RerankerException"/> so that a <see cref="FallbackReranker"/> can move on.
/// </summary>
public sealed class RewardReranker : ScoreReranker
{
    /// <inheritdoc/>
    public override string Name => "reward";

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var scores = new double[pool.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            if (double.IsNaN(pool[i].Reward))
            {
                throw new RerankerException($"Candidate {i} at {pool[i].Position} has no reward score; build the pool with a reward head.");
            }

            scores[i] = pool[i].Reward;
        }

        return ValueTask.FromResult<IReadOnlyList<double>>(scores);
    }
}

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
    /// <summary>A reranker choosing by <paramref name="selection"/> (default: the highest reward).</summary>
    public RewardReranker(RewardSelection selection = RewardSelection.MostLikelyWithin)
    {
        if (!Enum.IsDefined(selection)) throw new ArgumentOutOfRangeException(nameof(selection), selection, "Not a RewardSelection.");
        Selection = selection;
    }

    /// <summary>How the candidate is chosen.</summary>
    public RewardSelection Selection { get; }

    /// <inheritdoc/>
    public override string Name => Selection == RewardSelection.Reference ? "reward-paper" : "reward";

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

        // The reference's rule: when no candidate is in the "within" bin, the most confident of the "beyond" bin.
        if (Selection == RewardSelection.Reference && scores.Length > 0 && scores.Max() < 0.5)
        {
            for (int i = 0; i < scores.Length; i++) scores[i] = 1 - scores[i];
        }

        return ValueTask.FromResult<IReadOnlyList<double>>(scores);
    }
}

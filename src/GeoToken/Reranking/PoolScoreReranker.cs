using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Orders candidates by the scores a pool scorer gave them before reranking (<see cref="RerankQuery.PoolScores"/>
/// named <see cref="Scorer"/>). When the query has no such scores, or a candidate has none (or NaN), it throws
/// <see cref="RerankerException"/> so that a <see cref="FallbackReranker"/> can move on.
/// </summary>
public class PoolScoreReranker : ScoreReranker
{
    /// <summary>A reranker by the scores of <paramref name="scorer"/>.</summary>
    /// <param name="scorer">The pool scorer's name (e.g. <c>reward</c>).</param>
    /// <param name="name">The reranker's name in tables (default: the scorer's).</param>
    public PoolScoreReranker(string scorer, string? name = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scorer);
        Scorer = scorer;
        Name = name ?? scorer;
    }

    /// <summary>The pool scorer whose scores rank the pool.</summary>
    public string Scorer { get; }

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var found = query.PoolScores.FirstOrDefault(s => s.Scorer == Scorer)
            ?? throw new RerankerException($"The pool has no '{Scorer}' scores; configure the '{Scorer}' pool scorer.");
        var scores = new double[pool.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            if (!found.TryGetScore(pool[i], out double score) || double.IsNaN(score))
            {
                throw new RerankerException($"Candidate {i} at {pool[i].Position} has no {Scorer} score; build the pool with a {Scorer} scorer.");
            }

            scores[i] = score;
        }

        return ValueTask.FromResult<IReadOnlyList<double>>(scores);
    }
}

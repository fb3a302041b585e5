using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// The scores one pool scorer (e.g. the learned reward head) gave the candidates of one query's pool, looked up by
/// candidate: the very <see cref="GeoCandidate"/> instances of the pool it scored, so that a subset of the pool (the
/// top N of a <see cref="CascadeReranker"/>) still finds its scores. They reach rerankers on
/// <see cref="RerankQuery.PoolScores"/>.
/// </summary>
public sealed class CandidateScores
{
    private readonly Dictionary<GeoCandidate, double> _scores;

    /// <summary>Scores of <paramref name="pool"/>'s candidates, in pool order (NaN: the candidate was not scored).</summary>
    /// <param name="scorer">The scorer's name (e.g. <c>reward</c>).</param>
    /// <param name="pool">The pool scored.</param>
    /// <param name="scores">One score per candidate, higher is better.</param>
    /// <exception cref="ArgumentException">The counts differ or the name is empty.</exception>
    public CandidateScores(string scorer, IReadOnlyList<GeoCandidate> pool, IReadOnlyList<double> scores)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scorer);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(scores);
        if (pool.Count != scores.Count) throw new ArgumentException($"{scores.Count} '{scorer}' scores for a pool of {pool.Count} candidates.", nameof(scores));
        Scorer = scorer;
        _scores = new Dictionary<GeoCandidate, double>(pool.Count, ReferenceEqualityComparer.Instance);
        for (int i = 0; i < pool.Count; i++) _scores[pool[i]] = scores[i];
    }

    /// <summary>The scorer's name.</summary>
    public string Scorer { get; }

    /// <summary>Candidates scored.</summary>
    public int Count => _scores.Count;

    /// <summary>The score of <paramref name="candidate"/> (this very instance); false when it was not in the scored pool.</summary>
    public bool TryGetScore(GeoCandidate candidate, out double score) => _scores.TryGetValue(candidate, out score);
}

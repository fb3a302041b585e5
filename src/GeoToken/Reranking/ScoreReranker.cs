using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>Base for rerankers that score each candidate independently and sort by score (stable for ties).</summary>
public abstract class ScoreReranker : IReranker
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public async Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(pool);
        if (pool.Count == 0) throw new ArgumentException("The candidate pool is empty.", nameof(pool));
        var scores = await ScoreAsync(query, pool, cancellationToken).ConfigureAwait(false);
        if (scores.Count != pool.Count) throw new InvalidOperationException($"{Name} returned {scores.Count} scores for {pool.Count} candidates.");
        var ranked = pool.Select((c, i) => (Item: new ScoredCandidate(c, scores[i]), Index: i))
            .OrderByDescending(x => double.IsNaN(x.Item.Score) ? double.NegativeInfinity : x.Item.Score)
            .ThenBy(x => x.Index)
            .Select(x => x.Item)
            .ToArray();
        return new RerankResult { Ranked = ranked, DecidedBy = Name };
    }

    /// <summary>One score per candidate, in pool order (higher is better).</summary>
    protected abstract ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken);
}

using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Composes two rerankers: <paramref name="first"/> orders the whole pool, then <paramref name="second"/>
/// reorders only the top <paramref name="topN"/> (e.g. an MLLM judge over the consensus top 5). The rest
/// keep the first order.
/// </summary>
public sealed class CascadeReranker(IReranker first, IReranker second, int topN) : IReranker
{
    private readonly IReranker _first = first ?? throw new ArgumentNullException(nameof(first));
    private readonly IReranker _second = second ?? throw new ArgumentNullException(nameof(second));
    private readonly int _topN = topN > 0 ? topN : throw new ArgumentOutOfRangeException(nameof(topN), topN, "topN must be positive.");

    /// <inheritdoc/>
    public string Name => $"{_first.Name}>top{_topN}>{_second.Name}";

    /// <inheritdoc/>
    public async Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default)
    {
        var a = await _first.RerankAsync(query, pool, cancellationToken).ConfigureAwait(false);
        var top = a.Ranked.Take(_topN).Select(s => s.Candidate).ToArray();
        var b = await _second.RerankAsync(query, top, cancellationToken).ConfigureAwait(false);

        // The second stage's order comes first (it may add a candidate of its own); its scores are on
        // its own scale, so the tail keeps the first stage's order below them.
        double floor = b.Ranked.Min(s => s.Score);
        var tail = a.Ranked.Skip(_topN).Select((s, i) => new ScoredCandidate(s.Candidate, floor - 1 - i));
        return new RerankResult
        {
            Ranked = [.. b.Ranked, .. tail],
            DecidedBy = b.DecidedBy,
            FallbackReasons = [.. a.FallbackReasons, .. b.FallbackReasons],
        };
    }
}

namespace GeoToken.Reranking;

/// <summary>A reranked pool, best first, with an account of how it was decided.</summary>
public sealed record RerankResult
{
    /// <summary>The candidates, best first. Never empty for a non-empty pool.</summary>
    public required IReadOnlyList<ScoredCandidate> Ranked { get; init; }

    /// <summary>The reranker that decided the order (after any fallback).</summary>
    public required string DecidedBy { get; init; }

    /// <summary>Why earlier rerankers in a fallback chain did not decide (empty when the first one did).</summary>
    public IReadOnlyList<string> FallbackReasons { get; init; } = [];

    /// <summary>The best candidate.</summary>
    public ScoredCandidate Best => Ranked[0];
}

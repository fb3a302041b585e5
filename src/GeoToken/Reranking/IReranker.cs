using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Orders a candidate pool for one query: query features, neighbors and pool in, a scored,
/// ordered pool out. Implementations are composable (see <see cref="FallbackReranker"/> and
/// <see cref="CascadeReranker"/>) and must be safe to call concurrently.
/// </summary>
public interface IReranker
{
    /// <summary>A short name for tables and reports (e.g. <c>logprob</c>).</summary>
    string Name { get; }

    /// <summary>Scores and orders <paramref name="pool"/>.</summary>
    /// <exception cref="RerankerException">The reranker could not decide (e.g. an unusable MLLM answer); a <see cref="FallbackReranker"/> catches this.</exception>
    Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default);
}

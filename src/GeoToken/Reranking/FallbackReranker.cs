using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Tries rerankers in order; when one fails (throws <see cref="RerankerException"/>, times out or
/// errors), the next decides and the reason is recorded in <see cref="RerankResult.FallbackReasons"/>.
/// Cancellation by the caller is not a failure: it propagates.
/// </summary>
public sealed class FallbackReranker : IReranker
{
    private readonly IReranker[] _chain;

    /// <summary>Creates a chain; the last reranker should be one that cannot fail (e.g. <see cref="LogProbReranker"/>).</summary>
    public FallbackReranker(params IReranker[] chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Length == 0) throw new ArgumentException("A fallback chain needs at least one reranker.", nameof(chain));
        _chain = chain;
    }

    /// <inheritdoc/>
    public string Name => string.Join("→", _chain.Select(r => r.Name));

    /// <inheritdoc/>
    public async Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default)
    {
        var reasons = new List<string>();
        for (int i = 0; i < _chain.Length; i++)
        {
            try
            {
                var result = await _chain[i].RerankAsync(query, pool, cancellationToken).ConfigureAwait(false);
                return result with { FallbackReasons = [.. reasons, .. result.FallbackReasons] };
            }
            catch (Exception e) when (i < _chain.Length - 1 && !cancellationToken.IsCancellationRequested && e is not ArgumentException)
            {
                reasons.Add($"{_chain[i].Name}: {e.Message}");
            }
        }

        throw new InvalidOperationException("unreachable");
    }
}

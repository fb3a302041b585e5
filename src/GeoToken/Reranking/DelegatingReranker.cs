using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// A reranker that passes every call to an inner reranker; derive from it to add behaviour around reranking (logging,
/// timing, caching…), as <c>DelegatingChatClient</c> does for chat clients in Microsoft.Extensions.AI. Compose with
/// <see cref="RerankerBuilder"/>.
/// </summary>
public abstract class DelegatingReranker : IReranker
{
    /// <summary>Wraps <paramref name="innerReranker"/>.</summary>
    protected DelegatingReranker(IReranker innerReranker)
    {
        InnerReranker = innerReranker ?? throw new ArgumentNullException(nameof(innerReranker));
    }

    /// <summary>The reranker calls are passed to.</summary>
    protected IReranker InnerReranker { get; }

    /// <summary>The inner reranker's name (override to rename).</summary>
    public virtual string Name => InnerReranker.Name;

    /// <summary>Passes the call to the inner reranker.</summary>
    /// <inheritdoc/>
    public virtual Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default) =>
        InnerReranker.RerankAsync(query, pool, cancellationToken);
}

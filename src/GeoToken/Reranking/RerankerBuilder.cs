namespace GeoToken.Reranking;

/// <summary>
/// Builds a reranker from an inner reranker and layers around it, as <c>ChatClientBuilder</c> does for chat clients:
/// <c>new RerankerBuilder(consensus).UseFallback(consensus).UseCascade(judge, 5).Build()</c> is a fallback to consensus
/// around a cascade of consensus and the judge of its top 5. The first <c>Use</c> is the outermost layer.
/// </summary>
/// <remarks>
/// Layers: <see cref="Use"/> with any <c>Func&lt;IReranker, IReranker&gt;</c> (e.g. a <see cref="DelegatingReranker"/>), and the
/// extensions of <see cref="RerankerBuilderExtensions"/>.
/// </remarks>
public sealed class RerankerBuilder
{
    private readonly IReranker _inner;
    private readonly List<Func<IReranker, IReranker>> _layers = [];

    /// <summary>A builder around <paramref name="innerReranker"/>.</summary>
    public RerankerBuilder(IReranker innerReranker)
    {
        _inner = innerReranker ?? throw new ArgumentNullException(nameof(innerReranker));
    }

    /// <summary>Adds a layer: <paramref name="layer"/> receives the reranker built so far (inside it) and returns the one that wraps it.</summary>
    public RerankerBuilder Use(Func<IReranker, IReranker> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>The reranker: the inner one wrapped by every layer, the last added innermost.</summary>
    /// <exception cref="InvalidOperationException">A layer returned null.</exception>
    public IReranker Build()
    {
        var reranker = _inner;
        for (int i = _layers.Count - 1; i >= 0; i--)
        {
            reranker = _layers[i](reranker) ?? throw new InvalidOperationException($"Layer {i + 1} of the reranker builder returned null.");
        }

        return reranker;
    }
}

namespace GeoToken.Reranking;

/// <summary>The standard layers of a <see cref="RerankerBuilder"/>.</summary>
public static class RerankerBuilderExtensions
{
    /// <summary>
    /// When the reranker inside fails (<see cref="RerankerException"/>, a timeout or an error), <paramref name="fallbacks"/>
    /// decide in turn, the reasons recorded (<see cref="FallbackReranker"/>; named <c>inner→fallback</c>).
    /// </summary>
    public static RerankerBuilder UseFallback(this RerankerBuilder builder, params IReranker[] fallbacks)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(fallbacks);
        if (fallbacks.Length == 0) throw new ArgumentException("Give at least one fallback reranker.", nameof(fallbacks));
        return builder.Use(inner => new FallbackReranker([inner, .. fallbacks]));
    }

    /// <summary>
    /// <paramref name="second"/> reorders the top <paramref name="top"/> of the order the reranker inside gives
    /// (<see cref="CascadeReranker"/>; named <c>inner&gt;topN&gt;second</c>), e.g. an MLLM judge over the consensus top 5.
    /// </summary>
    public static RerankerBuilder UseCascade(this RerankerBuilder builder, IReranker second, int top)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        return builder.Use(inner => new CascadeReranker(inner, second, top));
    }
}

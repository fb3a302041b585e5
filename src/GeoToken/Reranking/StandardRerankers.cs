namespace GeoToken.Reranking;

/// <summary>The rerankers that need nothing but the pool and the query, by name (for command lines and configuration).</summary>
public static class StandardRerankers
{
    private static readonly Dictionary<string, Func<IReranker>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["consensus"] = () => new ConsensusReranker(),
        ["logprob"] = () => new LogProbReranker(),
        ["mbr"] = () => new MbrReranker(),
        [RewardReranker.ScorerName] = () => new RewardReranker(),
    };

    /// <summary>The names, in the order they are documented: consensus, logprob, mbr, reward.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Factories.Keys];

    /// <summary>
    /// A new reranker named <paramref name="name"/> (case-insensitive) with its default options. <c>reward</c> ranks by the
    /// reward scorer's pool scores, so it needs a reward head (and fails, for a fallback to catch, without one).
    /// </summary>
    /// <exception cref="ArgumentException">No reranker has that name; the message lists the names.</exception>
    public static IReranker Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new ArgumentException($"No reranker is named '{name}'; use {string.Join(", ", Names)}.", nameof(name));
    }
}

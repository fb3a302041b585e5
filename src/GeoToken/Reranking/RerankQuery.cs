namespace GeoToken.Reranking;

/// <summary>What a reranker may know about the query image.</summary>
public sealed record RerankQuery
{
    /// <summary>An identifier for messages and reports (e.g. the image id).</summary>
    public string? Id { get; init; }

    /// <summary>The query's feature vectors, one per modality (image first), when available.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Features { get; init; } = [];

    /// <summary>The retrieved neighbors, most similar first.</summary>
    public IReadOnlyList<Neighbor> Neighbors { get; init; } = [];

    /// <summary>The photo, when there is one.</summary>
    public ImageInput? Image { get; init; }

    /// <summary>
    /// Scores that pool scorers gave this query's candidates before reranking (e.g. the reward head's, named
    /// <c>reward</c>), one entry per scorer; <see cref="PoolScoreReranker"/> ranks by one of them. Empty when none ran.
    /// </summary>
    public IReadOnlyList<CandidateScores> PoolScores { get; init; } = [];
}

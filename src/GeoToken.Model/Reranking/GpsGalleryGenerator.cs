using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// The GPS gallery as a predictor of its own (<c>gps-gallery</c>): the gallery coordinates whose location
/// embeddings are most similar to the query image's embedding, best first. Reads
/// <see cref="RerankQuery.Features"/>[0]. Does not own the gallery.
/// </summary>
public sealed class GpsGalleryGenerator(GpsGallery gallery) : ICandidateGenerator
{
    private readonly GpsGallery _gallery = gallery ?? throw new ArgumentNullException(nameof(gallery));

    /// <inheritdoc/>
    public string Name => "gps-gallery";

    /// <inheritdoc/>
    public Task<IReadOnlyList<GeoCandidate>> GenerateAsync(RerankQuery query, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        if (query.Features.Count == 0)
        {
            throw new ArgumentException($"The GPS gallery needs the query's image features; query {query.Id ?? "(no id)"} has none.", nameof(query));
        }

        var matches = _gallery.Predict(query.Features[0].Span, count);
        return Task.FromResult<IReadOnlyList<GeoCandidate>>(matches.Select(m => m.ToCandidate()).ToArray());
    }
}

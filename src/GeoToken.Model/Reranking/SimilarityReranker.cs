using GeoToken.Decoding;
using static TorchSharp.torch;

namespace GeoToken.Reranking;

/// <summary>
/// GeoCLIP-style reranking: a candidate scores the cosine similarity between the query image's embedding and
/// the candidate position's location embedding under a trained <see cref="SimilarityModel"/>.
/// </summary>
/// <remarks>
/// Reads the query's first feature vector (<see cref="RerankQuery.Features"/>[0], the image features).
/// Works for any candidate (model-decoded or free positions). Thread-safe: concurrent calls serialize on the
/// model (each call is one small batched forward pass). Does not own the model.
/// </remarks>
public sealed class SimilarityReranker(SimilarityModel model) : ScoreReranker
{
    private readonly SimilarityModel _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <inheritdoc/>
    public override string Name => "similarity";

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (query.Features.Count == 0)
        {
            throw new RerankerException($"The similarity reranker needs the query's image features; query {query.Id ?? "(no id)"} has none.");
        }

        var image = query.Features[0];
        int d = _model.Options.FeatureDimension;
        if (image.Length != d)
        {
            throw new RerankerException($"Query {query.Id ?? "(no id)"} has {image.Length}-d image features; the similarity model reads {d}-d features.");
        }

        var positions = pool.Select(c => c.Position).ToArray();
        lock (_model.Gate)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var img = _model.EmbedImages(tensor(image.ToArray(), [1, d], device: _model.Device));
            var loc = _model.EmbedPositions(positions);
            var scores = loc.matmul(img.t()).squeeze(1).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            return ValueTask.FromResult<IReadOnlyList<double>>(scores);
        }
    }
}

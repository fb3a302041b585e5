using GeoToken.Decoding;
using GeoToken.Model;

namespace GeoToken.Reranking;

/// <summary>
/// The reward head as a pool scorer: scores every candidate from the batch's kept encoder output (no second encoder
/// pass) under the name <c>reward</c>, which <see cref="RewardReranker"/> ranks by.
/// </summary>
/// <param name="head">The reward head (not owned).</param>
public sealed class RewardScorer(RewardHead head) : IPoolScorer
{
    private readonly RewardHead _head = head ?? throw new ArgumentNullException(nameof(head));

    /// <inheritdoc/>
    public string Name => RewardReranker.ScorerName;

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<double>> Score(EncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _head.Score(batch, pools);
    }
}

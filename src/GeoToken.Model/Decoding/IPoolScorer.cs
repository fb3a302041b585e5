using GeoToken.Model;

namespace GeoToken.Decoding;

/// <summary>
/// Scores the candidates of a batch's pools from the batch's kept encoder output (<see cref="EncodedBatch"/>), between
/// decoding and reranking — e.g. the learned reward head (<c>GeoToken.Reranking.RewardScorer</c>). Its scores
/// reach rerankers as <see cref="GeoToken.Reranking.RerankQuery.PoolScores"/> named <see cref="Name"/>, and
/// <see cref="GeoToken.Reranking.PoolScoreReranker"/> ranks by them.
/// </summary>
/// <remarks>Called with the model's inference serialised (one batch at a time).</remarks>
public interface IPoolScorer
{
    /// <summary>The scores' name (e.g. <c>reward</c>).</summary>
    string Name { get; }

    /// <summary>One score per candidate of every pool (NaN: not scored), pools in batch order, candidates in pool order.</summary>
    /// <param name="batch">The encoded batch the pools were decoded from.</param>
    /// <param name="pools">One pool per image of <paramref name="batch"/>.</param>
    /// <param name="cancellationToken">Cancels the scoring.</param>
    IReadOnlyList<IReadOnlyList<double>> Score(EncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, CancellationToken cancellationToken = default);
}

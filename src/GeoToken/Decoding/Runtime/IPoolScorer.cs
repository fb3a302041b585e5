namespace GeoToken.Decoding;

/// <summary>
/// Scores the candidates of a batch's pools from the batch's kept encoder output (<see cref="IEncodedBatch"/>), between
/// decoding and reranking — e.g. the learned reward head (<c>GeoToken.Reranking.RewardScorer</c>, TorchSharp only). Its
/// scores reach rerankers as <see cref="GeoToken.Reranking.RerankQuery.PoolScores"/> named <see cref="Name"/>, and
/// <see cref="GeoToken.Reranking.PoolScoreReranker"/> ranks by them.
/// </summary>
/// <remarks>Called with the model's inference serialised (one batch at a time).</remarks>
public interface IPoolScorer
{
    /// <summary>The scores' name (e.g. <c>reward</c>).</summary>
    string Name { get; }

    /// <summary>Throws unless the scorer can score batches of <paramref name="model"/> (its runtime and width); called when a predictor or evaluation opens.</summary>
    /// <param name="model">The model whose batches will be scored.</param>
    /// <exception cref="ArgumentException">The scorer cannot read this model's batches; the message says why and what to use instead.</exception>
    void CheckUsableWith(IRuntimeModel model);

    /// <summary>One score per candidate of every pool (NaN: not scored), pools in batch order, candidates in pool order.</summary>
    /// <param name="batch">The encoded batch the pools were decoded from.</param>
    /// <param name="pools">One pool per image of <paramref name="batch"/>.</param>
    /// <param name="cancellationToken">Cancels the scoring.</param>
    IReadOnlyList<IReadOnlyList<double>> Score(IEncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, CancellationToken cancellationToken = default);
}

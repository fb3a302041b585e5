using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>Orders candidates by their summed token log-probability under the model.</summary>
public sealed class LogProbReranker : ScoreReranker
{
    /// <inheritdoc/>
    public override string Name => "logprob";

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var scores = new double[pool.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            if (double.IsNaN(pool[i].LogProbability))
            {
                throw new RerankerException($"Candidate {i} at {pool[i].Position} has no model log-probability; the logprob reranker needs model-generated candidates.");
            }

            scores[i] = pool[i].LogProbability;
        }

        return ValueTask.FromResult<IReadOnlyList<double>>(scores);
    }
}

using GeoToken.Decoding;
using GeoToken.Geometry;

namespace GeoToken.Reranking;

/// <summary>
/// Training-free reranking by agreement with the retrieved neighbors: a candidate scores
/// log Σⱼ wⱼ Σ_σ exp(−d(c, nⱼ)/σ) with wⱼ ∝ exp(simⱼ / T), plus small terms for the model's
/// log-probability and the generation count.
/// </summary>
public sealed class ConsensusReranker(ConsensusRerankerOptions? options = null) : ScoreReranker
{
    private readonly ConsensusRerankerOptions _options = Validate(options ?? new ConsensusRerankerOptions());

    /// <inheritdoc/>
    public override string Name => "consensus";

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var neighbors = query.Neighbors;
        if (neighbors.Count == 0) throw new RerankerException("The consensus reranker needs the query's retrieved neighbors; none were given.");
        double maxSim = neighbors.Max(n => n.Similarity);
        var weights = neighbors.Select(n => Math.Exp((n.Similarity - maxSim) / _options.Temperature)).ToArray();
        double total = weights.Sum();
        var scores = new double[pool.Count];
        for (int i = 0; i < pool.Count; i++)
        {
            double agreement = 0;
            for (int j = 0; j < neighbors.Count; j++)
            {
                double d = Geodesy.HaversineKm(pool[i].Position, neighbors[j].Position);
                double k = 0;
                foreach (double s in _options.ScalesKm) k += Math.Exp(-d / s);
                agreement += weights[j] / total * k;
            }

            double score = Math.Log(agreement + 1e-12);
            if (_options.LogProbabilityWeight != 0 && !double.IsNaN(pool[i].LogProbability)) score += _options.LogProbabilityWeight * pool[i].LogProbability;
            score += _options.CountWeight * Math.Log(Math.Max(1, pool[i].Count));
            scores[i] = score;
        }

        return ValueTask.FromResult<IReadOnlyList<double>>(scores);
    }

    private static ConsensusRerankerOptions Validate(ConsensusRerankerOptions o)
    {
        if (o.ScalesKm.Count == 0 || o.ScalesKm.Any(s => !(s > 0))) throw new ArgumentException("ScalesKm must be non-empty and positive.", nameof(o));
        if (!(o.Temperature > 0)) throw new ArgumentOutOfRangeException(nameof(o), o.Temperature, "Temperature must be positive.");
        return o;
    }
}

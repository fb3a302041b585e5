using GeoToken.Decoding;
using GeoToken.Geometry;

namespace GeoToken.Reranking;

/// <summary>
/// Minimum-Bayes-risk selection over a sampled pool: treats the pool's candidates, each counted as often as it was
/// generated, as draws from the model's distribution over locations and picks the candidate with the most expected
/// hits at the metric's thresholds, Σᵢ countᵢ · #{r : d(c, cᵢ) ≤ r}. Training-free and needs no neighbors: it finds
/// the region where the model's samples concentrate rather than the single most probable cell (which can be an
/// isolated one).
/// </summary>
/// <remarks>
/// It is only as good as the pool is a sample: with greedy and beam candidates alone (no sampling) it reduces to
/// agreement between a handful of sequences. A small log-probability term breaks ties.
/// </remarks>
public sealed class MbrReranker(MbrRerankerOptions? options = null) : ScoreReranker
{
    private readonly MbrRerankerOptions _options = Validate(options ?? new MbrRerankerOptions());

    /// <inheritdoc/>
    public override string Name => _options.CoarseToFine ? "mbr-c2f" : "mbr";

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<double>> ScoreAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        // Thresholds coarse to fine; with CoarseToFine each finer level only breaks ties of the coarser ones
        // (weights in powers of one more than the largest possible support).
        var thresholds = _options.ThresholdsKm.OrderDescending().ToArray();
        double totalCount = pool.Sum(c => (double)Math.Max(1, c.Count));
        var weights = new double[thresholds.Length];
        for (int t = 0; t < thresholds.Length; t++) weights[t] = _options.CoarseToFine ? Math.Pow(totalCount + 1, thresholds.Length - 1 - t) : 1;
        var scores = new double[pool.Count];
        for (int i = 0; i < pool.Count; i++)
        {
            double hits = 0;
            for (int j = 0; j < pool.Count; j++)
            {
                double d = i == j ? 0 : Geodesy.HaversineKm(pool[i].Position, pool[j].Position);
                double within = 0;
                for (int t = 0; t < thresholds.Length; t++) within += d <= thresholds[t] ? weights[t] : 0;
                hits += Math.Max(1, pool[j].Count) * within;
            }

            double score = hits;
            if (_options.LogProbabilityWeight != 0 && !double.IsNaN(pool[i].LogProbability)) score += _options.LogProbabilityWeight * pool[i].LogProbability;
            scores[i] = score;
        }

        return ValueTask.FromResult<IReadOnlyList<double>>(scores);
    }

    private static MbrRerankerOptions Validate(MbrRerankerOptions o)
    {
        if (o.ThresholdsKm is null || o.ThresholdsKm.Count == 0 || o.ThresholdsKm.Any(r => !(r > 0) || double.IsInfinity(r)))
        {
            throw new ArgumentException($"MbrRerankerOptions.ThresholdsKm must hold at least one positive, finite distance; got [{string.Join(", ", o.ThresholdsKm ?? [])}].", nameof(o));
        }

        if (double.IsNaN(o.LogProbabilityWeight) || double.IsInfinity(o.LogProbabilityWeight))
        {
            throw new ArgumentException($"MbrRerankerOptions.LogProbabilityWeight is {o.LogProbabilityWeight}; it must be finite.", nameof(o));
        }

        return o;
    }
}

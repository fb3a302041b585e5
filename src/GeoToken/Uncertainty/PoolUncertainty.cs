using GeoToken.Decoding;
using GeoToken.Geometry;

namespace GeoToken.Uncertainty;

/// <summary>
/// Uncertainty of a prediction from its candidate pool: the smallest radius around the prediction
/// that holds a given share of the pool's probability mass.
/// </summary>
public static class PoolUncertainty
{
    /// <summary>
    /// The probability mass of each candidate: its share of the samples that generated it when the
    /// pool was sampled (counts), otherwise the softmax of the log-probabilities; uniform as a last resort.
    /// </summary>
    public static double[] Masses(IReadOnlyList<GeoCandidate> pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (pool.Count == 0) throw new ArgumentException("The candidate pool is empty.", nameof(pool));
        var m = new double[pool.Count];
        int totalCount = pool.Sum(c => c.Count);
        if (totalCount > pool.Count)
        {
            for (int i = 0; i < m.Length; i++) m[i] = (double)pool[i].Count / totalCount;
            return m;
        }

        if (pool.All(c => !double.IsNaN(c.LogProbability)))
        {
            double max = pool.Max(c => c.LogProbability);
            for (int i = 0; i < m.Length; i++) m[i] = Math.Exp(pool[i].LogProbability - max);
            double sum = m.Sum();
            for (int i = 0; i < m.Length; i++) m[i] /= sum;
            return m;
        }

        Array.Fill(m, 1.0 / m.Length);
        return m;
    }

    /// <summary>
    /// The smallest radius (km) around <paramref name="center"/> within which candidates hold at least
    /// <paramref name="mass"/> of the probability (0 &lt; mass ≤ 1).
    /// </summary>
    public static double RadiusKm(LatLng center, IReadOnlyList<GeoCandidate> pool, ReadOnlySpan<double> masses, double mass)
    {
        if (!(mass > 0 && mass <= 1)) throw new ArgumentOutOfRangeException(nameof(mass), mass, "The mass must be in (0, 1].");
        if (masses.Length != pool.Count) throw new ArgumentException($"{masses.Length} masses for {pool.Count} candidates.", nameof(masses));
        var byDistance = new (double D, double M)[pool.Count];
        for (int i = 0; i < byDistance.Length; i++) byDistance[i] = (Geodesy.HaversineKm(center, pool[i].Position), masses[i]);
        Array.Sort(byDistance, (a, b) => a.D.CompareTo(b.D));
        double acc = 0;
        foreach (var (d, m) in byDistance)
        {
            acc += m;
            if (acc >= mass - 1e-12) return d;
        }

        return byDistance[^1].D;
    }
}

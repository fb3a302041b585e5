using System.Collections.Immutable;
using GeoToken.Geometry;
using MathNet.Numerics.Statistics;

namespace GeoToken.Evaluation;

/// <summary>
/// The standard geolocation metrics over a set of predictions: accuracy within 1, 25, 200, 750
/// and 2500 km (street, city, region, country, continent; distance ≤ threshold), median and mean
/// great-circle error, and the mean GeoGuessr score.
/// </summary>
public sealed record GeoMetrics
{
    /// <summary>The thresholds of the standard table, in km.</summary>
    public static ImmutableArray<double> StandardThresholdsKm { get; } = [1, 25, 200, 750, 2500];

    /// <summary>Number of predictions.</summary>
    public required int Count { get; init; }

    /// <summary>Percentage of predictions within 1 km.</summary>
    public required double Acc1Km { get; init; }

    /// <summary>Percentage of predictions within 25 km.</summary>
    public required double Acc25Km { get; init; }

    /// <summary>Percentage of predictions within 200 km.</summary>
    public required double Acc200Km { get; init; }

    /// <summary>Percentage of predictions within 750 km.</summary>
    public required double Acc750Km { get; init; }

    /// <summary>Percentage of predictions within 2500 km.</summary>
    public required double Acc2500Km { get; init; }

    /// <summary>Median error in km.</summary>
    public required double MedianKm { get; init; }

    /// <summary>Mean error in km.</summary>
    public required double MeanKm { get; init; }

    /// <summary>Mean GeoGuessr score, 5000·exp(−d / 1492.7) per prediction.</summary>
    public required double MeanGeoScore { get; init; }

    /// <summary>The accuracies in the order of <see cref="StandardThresholdsKm"/>.</summary>
    public double[] Accuracies => [Acc1Km, Acc25Km, Acc200Km, Acc750Km, Acc2500Km];

    /// <summary>The GeoGuessr score of one prediction <paramref name="distanceKm"/> away: 5000·exp(−d / 1492.7).</summary>
    public static double GeoScore(double distanceKm) => 5000 * Math.Exp(-distanceKm / 1492.7);

    /// <summary>Computes the metrics from per-prediction errors in km.</summary>
    /// <exception cref="ArgumentException">The set is empty, or a distance is negative or not finite (the message names its index).</exception>
    public static GeoMetrics FromDistances(ReadOnlySpan<double> distancesKm)
    {
        if (distancesKm.IsEmpty) throw new ArgumentException("No predictions to evaluate.", nameof(distancesKm));
        var sorted = distancesKm.ToArray();
        int[] within = new int[StandardThresholdsKm.Length];
        double sum = 0, score = 0;
        for (int k = 0; k < sorted.Length; k++)
        {
            double d = sorted[k];
            if (!double.IsFinite(d) || d < 0)
            {
                throw new ArgumentException($"Distance {k} is {d}; distances must be finite and non-negative.", nameof(distancesKm));
            }

            sum += d;
            score += GeoScore(d);
            for (int t = 0; t < within.Length; t++)
            {
                if (d <= StandardThresholdsKm[t]) within[t]++;
            }
        }

        Array.Sort(sorted);
        int n = sorted.Length;
        double median = SortedArrayStatistics.Median(sorted); // the middle value, or the mean of the two middle ones
        double Pct(int t) => 100.0 * within[t] / n;
        return new GeoMetrics
        {
            Count = n,
            Acc1Km = Pct(0),
            Acc25Km = Pct(1),
            Acc200Km = Pct(2),
            Acc750Km = Pct(3),
            Acc2500Km = Pct(4),
            MedianKm = median,
            MeanKm = sum / n,
            MeanGeoScore = score / n,
        };
    }

    /// <summary>Computes the metrics of predicted against true positions (same length, paired by index).</summary>
    public static GeoMetrics FromPredictions(ReadOnlySpan<LatLng> predicted, ReadOnlySpan<LatLng> truth)
    {
        if (predicted.Length != truth.Length)
        {
            throw new ArgumentException($"{predicted.Length} predictions but {truth.Length} true positions.", nameof(truth));
        }

        var d = new double[predicted.Length];
        for (int k = 0; k < d.Length; k++) d[k] = Geodesy.HaversineKm(predicted[k], truth[k]);
        return FromDistances(d);
    }
}

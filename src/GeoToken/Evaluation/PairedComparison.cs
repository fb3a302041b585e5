using System.Collections.Immutable;
using System.Globalization;
using MathNet.Numerics.Distributions;

namespace GeoToken.Evaluation;

/// <summary>
/// A paired comparison of two strategies' errors on the same images: at each distance, how many images only one
/// of them places within it, the accuracy difference with its 95 % confidence interval, and an exact McNemar test.
/// Differences of a few tenths of a point on a few thousand images are usually within noise; this says how far.
/// </summary>
public sealed record PairedComparison
{
    /// <summary>The standard normal quantile of a two-sided 95 % interval (≈ 1.959964).</summary>
    private static readonly double Z95 = Normal.InvCDF(0, 1, 0.975);

    /// <summary>Number of images compared.</summary>
    public required int Count { get; init; }

    /// <summary>One comparison per distance, in the order asked for.</summary>
    public required ImmutableArray<PairedThresholdComparison> Thresholds { get; init; }

    /// <summary>
    /// Compares <paramref name="candidateKm"/> with <paramref name="baselineKm"/>, the two strategies' errors on the
    /// same images in the same order.
    /// </summary>
    /// <param name="candidateKm">The candidate strategy's error per image, in km.</param>
    /// <param name="baselineKm">The baseline's error per image, in km.</param>
    /// <param name="thresholdsKm">Distances (default: <see cref="GeoMetrics.StandardThresholdsKm"/>).</param>
    /// <exception cref="ArgumentException">
    /// The lists are empty or of different lengths, an error is negative or not finite (the message names the list and
    /// index), or a threshold is not a positive finite number.
    /// </exception>
    public static PairedComparison Compare(ReadOnlySpan<double> candidateKm, ReadOnlySpan<double> baselineKm, IReadOnlyList<double>? thresholdsKm = null)
    {
        if (candidateKm.IsEmpty) throw new ArgumentException("No images to compare.", nameof(candidateKm));
        if (candidateKm.Length != baselineKm.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The candidate has {candidateKm.Length} errors and the baseline {baselineKm.Length}; a paired comparison needs one of each per image."), nameof(baselineKm));
        }

        Check(candidateKm, nameof(candidateKm));
        Check(baselineKm, nameof(baselineKm));
        var thresholds = thresholdsKm ?? GeoMetrics.StandardThresholdsKm;
        int n = candidateKm.Length;
        var rows = ImmutableArray.CreateBuilder<PairedThresholdComparison>(thresholds.Count);
        foreach (double t in thresholds)
        {
            if (!double.IsFinite(t) || t <= 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Threshold {t} km is not a positive distance."), nameof(thresholdsKm));
            int hits = 0, baseHits = 0, wins = 0, losses = 0;
            for (int i = 0; i < n; i++)
            {
                bool a = candidateKm[i] <= t, b = baselineKm[i] <= t;
                if (a) hits++;
                if (b) baseHits++;
                if (a && !b) wins++;
                if (b && !a) losses++;
            }

            double d = (double)(wins - losses) / n;
            double se = Math.Sqrt(Math.Max(0, wins + losses - ((double)(wins - losses) * (wins - losses) / n))) / n;
            rows.Add(new PairedThresholdComparison(
                t, 100.0 * hits / n, 100.0 * baseHits / n, wins, losses, 100 * d, 100 * (d - (Z95 * se)), 100 * (d + (Z95 * se)), McNemarPValue(wins, losses)));
        }

        return new PairedComparison { Count = n, Thresholds = rows.MoveToImmutable() };
    }

    /// <summary>
    /// The exact two-sided McNemar p-value for <paramref name="wins"/> against <paramref name="losses"/> discordant
    /// pairs: twice the binomial(wins + losses, ½) probability of a count at most min(wins, losses), capped at 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public static double McNemarPValue(int wins, int losses)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(wins);
        ArgumentOutOfRangeException.ThrowIfNegative(losses);
        int m = wins + losses;
        return m == 0 ? 1 : Math.Min(1, 2 * Binomial.CDF(0.5, m, Math.Min(wins, losses)));
    }

    private static void Check(ReadOnlySpan<double> km, string name)
    {
        for (int i = 0; i < km.Length; i++)
        {
            if (!double.IsFinite(km[i]) || km[i] < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Error {i} is {km[i]} km; errors must be finite and non-negative."), name);
        }
    }
}

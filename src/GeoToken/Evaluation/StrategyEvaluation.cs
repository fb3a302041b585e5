using GeoToken.Geometry;

namespace GeoToken.Evaluation;

/// <summary>The evaluation of one prediction strategy over a query set: its metrics and per-image results.</summary>
public sealed record StrategyEvaluation
{
    /// <summary>The strategy's name (e.g. <c>greedy</c>, <c>beam</c>, <c>consensus</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The standard metrics.</summary>
    public required GeoMetrics Metrics { get; init; }

    /// <summary>The predicted position per query, in query order.</summary>
    public required IReadOnlyList<LatLng> Predictions { get; init; }

    /// <summary>The great-circle error per query in km, in query order.</summary>
    public required IReadOnlyList<double> DistancesKm { get; init; }

    /// <summary>Mean wall-clock time per image in milliseconds, when measured.</summary>
    public double? MillisecondsPerImage { get; init; }

    /// <summary>
    /// A paired comparison of this strategy with <paramref name="baseline"/> on the same queries: per distance, the
    /// images only one of them places within it, the accuracy difference with its 95 % interval and a McNemar test.
    /// </summary>
    /// <param name="baseline">The strategy to compare with, evaluated on the same queries in the same order.</param>
    /// <param name="thresholdsKm">Distances (default: <see cref="GeoMetrics.StandardThresholdsKm"/>).</param>
    /// <exception cref="ArgumentException">The two were evaluated on different numbers of queries.</exception>
    public PairedComparison CompareWith(StrategyEvaluation baseline, IReadOnlyList<double>? thresholdsKm = null)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return PairedComparison.Compare(DistancesKm.ToArray(), baseline.DistancesKm.ToArray(), thresholdsKm);
    }

    /// <summary>Evaluates predictions against the truth.</summary>
    public static StrategyEvaluation Create(string name, IReadOnlyList<LatLng> predictions, IReadOnlyList<LatLng> truth, double? millisecondsPerImage = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(truth);
        if (predictions.Count != truth.Count) throw new ArgumentException($"{name}: {predictions.Count} predictions for {truth.Count} queries.", nameof(predictions));
        var d = new double[truth.Count];
        for (int i = 0; i < d.Length; i++) d[i] = Geodesy.HaversineKm(predictions[i], truth[i]);
        return new StrategyEvaluation { Name = name, Metrics = GeoMetrics.FromDistances(d), Predictions = predictions, DistancesKm = d, MillisecondsPerImage = millisecondsPerImage };
    }
}

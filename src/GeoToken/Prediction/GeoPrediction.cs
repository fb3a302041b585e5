using GeoToken.Reranking;

namespace GeoToken.Prediction;

/// <summary>The predictor's answer for one query.</summary>
public sealed record GeoPrediction
{
    /// <summary>The query's identifier, when it had one.</summary>
    public string? Id { get; init; }

    /// <summary>Ranked answers, best first (at least one: a prediction never silently falls back to a default position).</summary>
    public required IReadOnlyList<PredictedLocation> Locations { get; init; }

    /// <summary>The answer (<see cref="Locations"/>[0]).</summary>
    public PredictedLocation Best => Locations[0];

    /// <summary>
    /// The smallest radius around the answer holding <see cref="UncertaintyMass"/> of the candidate pool's
    /// probability mass, in km, after the calibration (when the predictor has one) has been applied.
    /// </summary>
    public required double UncertaintyKm { get; init; }

    /// <summary>The pool mass the radius holds (e.g. 0.9).</summary>
    public required double UncertaintyMass { get; init; }

    /// <summary>
    /// Whether <see cref="UncertaintyKm"/> is calibrated, i.e. its coverage of the true location was measured on a
    /// validation split (<see cref="GeoTokenPredictorOptions.Calibration"/>); uncalibrated radii are the raw pool radius.
    /// </summary>
    public required bool UncertaintyCalibrated { get; init; }

    /// <summary>The retrieved gallery neighbors the model conditioned on, most similar first.</summary>
    public required IReadOnlyList<Neighbor> Neighbors { get; init; }

    /// <summary>Which reranker decided (after any fallbacks) and why earlier ones were skipped.</summary>
    public required string DecidedBy { get; init; }

    /// <summary>Why rerankers before <see cref="DecidedBy"/> gave up, if any did.</summary>
    public IReadOnlyList<string> FallbackReasons { get; init; } = [];
}

using GeoToken.Geometry;
using GeoToken.Decoding;
using GeoToken.Uncertainty;

namespace GeoToken.Evaluation;

/// <summary>The strategies evaluated side by side on one query set.</summary>
public sealed record EvaluationRunResult
{
    /// <summary>Every strategy's metrics, per-image predictions and latency, in table order.</summary>
    public required IReadOnlyList<StrategyEvaluation> Strategies { get; init; }

    /// <summary>The true locations, in query order.</summary>
    public required IReadOnlyList<LatLng> Truth { get; init; }

    /// <summary>The query image ids, in query order.</summary>
    public required IReadOnlyList<string> ImageIds { get; init; }

    /// <summary>
    /// Raw pool-mass radii of the <c>consensus</c> prediction fitted against the truth (split-conformal),
    /// for use by the predictor when this query set is a validation split.
    /// </summary>
    public required RadiusCalibration UncertaintyCalibration { get; init; }

    /// <summary>Why rerankers fell back, with counts (e.g. an MLLM judge's failures).</summary>
    public required IReadOnlyDictionary<string, int> FallbackReasons { get; init; }

    /// <summary>How often the encoder ran (one pass per batch), for tests.</summary>
    internal long EncoderRuns { get; init; }

    /// <summary>What the model reads and writes.</summary>
    public required RuntimeModelInfo Model { get; init; }

    /// <summary>The runtime the model ran on (<see cref="IGeoTokenRuntime.Name"/>).</summary>
    public required string Runtime { get; init; }
}

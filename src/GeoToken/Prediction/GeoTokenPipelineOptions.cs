using GeoToken.Decoding;
using GeoToken.Places;
using GeoToken.Uncertainty;

namespace GeoToken.Prediction;

/// <summary>Settings of <see cref="GeoTokenPipeline"/>.</summary>
internal sealed record GeoTokenPipelineOptions
{
    /// <summary>The candidate pool.</summary>
    public CandidatePoolOptions Pool { get; init; } = new();

    /// <summary>Pool scorers run after decoding (stage 5).</summary>
    public IReadOnlyList<IPoolScorer> Scorers { get; init; } = [];

    /// <summary>The pool mass of the uncertainty radius.</summary>
    public double UncertaintyMass { get; init; } = 0.9;

    /// <summary>The radius calibration, if any.</summary>
    public RadiusCalibration? Calibration { get; init; }

    /// <summary>Places naming answers, if any.</summary>
    public GeoNamesCities? Places { get; init; }
}

using GeoToken.Decoding;
using GeoToken.Geometry;

namespace GeoToken.Prediction;

/// <summary>One ranked answer for a query.</summary>
public sealed record PredictedLocation
{
    /// <summary>1 for the answer, 2 for the runner-up, …</summary>
    public required int Rank { get; init; }

    /// <summary>The predicted position (the centre of the decoded cell, or a free position for judge or gallery answers).</summary>
    public required LatLng Position { get; init; }

    /// <summary>The decoded S2 cell's token (e.g. <c>89c25</c>), or null for free positions.</summary>
    public string? CellToken { get; init; }

    /// <summary>The reranker's score (higher is better; its scale depends on the reranker).</summary>
    public required double Score { get; init; }

    /// <summary>The decoder's summed token log-probability (NaN for candidates that were not decoded).</summary>
    public double LogProbability { get; init; } = double.NaN;

    /// <summary>How many pool draws landed in this cell.</summary>
    public int Count { get; init; } = 1;

    /// <summary>Which decoders produced it.</summary>
    public CandidateSources Sources { get; init; }

    /// <summary>The nearest populated place (null when the predictor has no place table).</summary>
    public NearestPlace? Place { get; init; }
}

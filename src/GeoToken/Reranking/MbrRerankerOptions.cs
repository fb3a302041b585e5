namespace GeoToken.Reranking;

/// <summary>Settings of <see cref="MbrReranker"/>.</summary>
public sealed record MbrRerankerOptions
{
    /// <summary>
    /// The distance thresholds in km whose expected hits the reranker maximises (default 1, 25, 200, 750 and 2500 km:
    /// street, city, region, country and continent, the standard geolocation metric).
    /// </summary>
    public IReadOnlyList<double> ThresholdsKm { get; init; } = [1, 25, 200, 750, 2500];

    /// <summary>
    /// False (default): maximise the expected number of thresholds hit, Σ over thresholds of the support within each.
    /// True: compare the support within the coarsest threshold first and use the finer ones only to break ties
    /// (coarse to fine, as greedy decoding commits to the face first), so that the continent- and country-level
    /// choice is never traded for agreement at street level. The reranker is then named <c>mbr-c2f</c>.
    /// </summary>
    public bool CoarseToFine { get; init; }

    /// <summary>
    /// Weight of the model's log-probability added to the score (default 0.001: breaks ties between candidates
    /// with the same support; 0 ignores the model's scores).
    /// </summary>
    public double LogProbabilityWeight { get; init; } = 0.001;
}

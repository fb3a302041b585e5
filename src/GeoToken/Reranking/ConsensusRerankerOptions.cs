namespace GeoToken.Reranking;

/// <summary>Settings of <see cref="ConsensusReranker"/>.</summary>
public sealed record ConsensusRerankerOptions
{
    /// <summary>Distance scales in km of the agreement kernel exp(−d/σ), summed (default 25, 200 and 750 km: city, region, country).</summary>
    public IReadOnlyList<double> ScalesKm { get; init; } = [25, 200, 750];

    /// <summary>Softmax temperature on neighbor similarities: weight ∝ exp(similarity / T) (default 0.05).</summary>
    public double Temperature { get; init; } = 0.05;

    /// <summary>Weight of the model log-probability added to the consensus score (default 0.1; 0 ignores the model).</summary>
    public double LogProbabilityWeight { get; init; } = 0.1;

    /// <summary>Weight of log(generation count), rewarding cells sampled often (default 0.1).</summary>
    public double CountWeight { get; init; } = 0.1;
}

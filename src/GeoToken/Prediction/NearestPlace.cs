namespace GeoToken.Prediction;

/// <summary>The populated place nearest a predicted position (offline GeoNames extract).</summary>
/// <param name="Name">The place's name.</param>
/// <param name="CountryCode">Its ISO 3166-1 alpha-2 country code.</param>
/// <param name="DistanceKm">Great-circle distance from the prediction to the place.</param>
public sealed record NearestPlace(string Name, string CountryCode, double DistanceKm)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Name}, {CountryCode}";
}

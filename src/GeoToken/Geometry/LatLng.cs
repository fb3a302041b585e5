using System.Globalization;

namespace GeoToken.Geometry;

/// <summary>
/// A position on the Earth as latitude and longitude in degrees (WGS84 coordinates treated as
/// spherical, as S2 and every geolocation benchmark do).
/// </summary>
/// <remarks>
/// The public constructor validates: latitude must lie in [−90, 90] and longitude in [−180, 180],
/// both finite. Nothing is clamped or wrapped silently; use <see cref="TryCreate"/> to test input.
/// </remarks>
public readonly record struct LatLng
{
    /// <summary>Creates a validated position.</summary>
    /// <param name="latitude">Latitude in degrees, in [−90, 90].</param>
    /// <param name="longitude">Longitude in degrees, in [−180, 180].</param>
    /// <exception cref="ArgumentOutOfRangeException">A coordinate is not finite or out of range.</exception>
    public LatLng(double latitude, double longitude)
    {
        if (Validate(latitude, longitude) is { } error)
        {
            throw new ArgumentOutOfRangeException(error.Param, error.Message);
        }

        Latitude = latitude;
        Longitude = longitude;
    }

    private LatLng(double latitude, double longitude, bool _)
    {
        Latitude = latitude;
        Longitude = longitude;
    }

    /// <summary>Latitude in degrees, in [−90, 90].</summary>
    public double Latitude { get; }

    /// <summary>Longitude in degrees, in [−180, 180].</summary>
    public double Longitude { get; }

    /// <summary>Tries to create a validated position.</summary>
    /// <returns><see langword="null"/> when the coordinates are valid, otherwise a message that names the bad value.</returns>
    public static string? TryCreate(double latitude, double longitude, out LatLng value)
    {
        if (Validate(latitude, longitude) is { } error)
        {
            value = default;
            return error.Message;
        }

        value = new LatLng(latitude, longitude, true);
        return null;
    }

    /// <summary>
    /// Converts to a point on the unit sphere exactly as S2's <c>S2LatLng::ToPoint</c> does
    /// (degrees → radians by multiplying with π/180, then cos/sin).
    /// </summary>
    public S2Point ToPoint()
    {
        double phi = DegreesToRadians * Latitude;
        double theta = DegreesToRadians * Longitude;
        double cosphi = Math.Cos(phi);
        return new S2Point(Math.Cos(theta) * cosphi, Math.Sin(theta) * cosphi, Math.Sin(phi));
    }

    /// <summary>Formats as <c>lat,lon</c> with invariant culture and round-trippable precision.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Latitude:R},{Longitude:R}");

    internal const double DegreesToRadians = Math.PI / 180;
    internal const double RadiansToDegrees = 180 / Math.PI;

    internal static LatLng FromRadiansUnchecked(double latRadians, double lngRadians) =>
        new(RadiansToDegrees * latRadians, RadiansToDegrees * lngRadians, true);

    internal static LatLng FromDegreesUnchecked(double latitude, double longitude) =>
        new(latitude, longitude, true);

    private static (string Param, string Message)? Validate(double latitude, double longitude)
    {
        if (!double.IsFinite(latitude) || latitude < -90 || latitude > 90)
        {
            return (nameof(latitude), string.Create(CultureInfo.InvariantCulture,
                $"latitude {latitude} is outside [-90, 90] or not a finite number"));
        }

        if (!double.IsFinite(longitude) || longitude < -180 || longitude > 180)
        {
            return (nameof(longitude), string.Create(CultureInfo.InvariantCulture,
                $"longitude {longitude} is outside [-180, 180] or not a finite number"));
        }

        return null;
    }
}

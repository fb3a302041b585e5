namespace GeoToken.Geometry;

/// <summary>Great-circle distances on a spherical Earth.</summary>
public static class Geodesy
{
    /// <summary>The Earth radius used by the GeoToken paper and common geolocation benchmarks, 6371 km.</summary>
    public const double EarthRadiusKm = 6371.0;

    /// <summary>The haversine great-circle distance in kilometres between two positions in degrees.</summary>
    public static double HaversineKm(double lat1, double lon1, double lat2, double lon2)
    {
        const double toRad = Math.PI / 180;
        double phi1 = lat1 * toRad, phi2 = lat2 * toRad;
        double sinDPhi = Math.Sin((phi2 - phi1) / 2);
        double sinDLambda = Math.Sin((lon2 - lon1) * toRad / 2);
        double a = sinDPhi * sinDPhi + Math.Cos(phi1) * Math.Cos(phi2) * sinDLambda * sinDLambda;
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1.0, Math.Sqrt(a)));
    }

    /// <summary>The haversine great-circle distance in kilometres.</summary>
    public static double HaversineKm(LatLng a, LatLng b) => HaversineKm(a.Latitude, a.Longitude, b.Latitude, b.Longitude);
}

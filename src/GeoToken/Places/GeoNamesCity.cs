using GeoToken.Geometry;

namespace GeoToken.Places;

/// <summary>A populated place from GeoNames.</summary>
/// <param name="Name">The place's name (UTF-8, as GeoNames spells it).</param>
/// <param name="CountryCode">The ISO 3166-1 alpha-2 country code, e.g. <c>FR</c>.</param>
/// <param name="Location">Its position.</param>
/// <param name="Population">Its population as GeoNames records it (0 when unknown).</param>
public sealed record GeoNamesCity(string Name, string CountryCode, LatLng Location, int Population);

namespace GeoToken.Reports.Geography;

/// <summary>A country's outline: its name and polygon rings as (longitude, latitude) vertex lists in degrees.</summary>
/// <param name="Name">The country name (Natural Earth).</param>
/// <param name="Rings">Closed rings; each vertex is <c>[longitude, latitude]</c>.</param>
public sealed record CountryOutline(string Name, IReadOnlyList<double[][]> Rings);

using GeoToken.Prediction;

namespace GeoToken.Cli;

/// <summary>A prediction as <c>geotoken predict --json</c> and <c>geotoken serve</c> write it.</summary>
internal sealed record PredictionJson(string? Id, double UncertaintyKm, double UncertaintyMass, bool UncertaintyCalibrated, string DecidedBy,
    IReadOnlyList<string> FallbackReasons, IReadOnlyList<PredictionJson.LocationJson> Locations, IReadOnlyList<PredictionJson.NeighborJson> Neighbors)
{
    /// <summary>The prediction with its <paramref name="top"/> best locations.</summary>
    public static PredictionJson From(GeoPrediction p, int top) => new(p.Id, p.UncertaintyKm, p.UncertaintyMass, p.UncertaintyCalibrated, p.DecidedBy, p.FallbackReasons,
        [.. p.Locations.Take(top).Select(l => new LocationJson(l.Rank, l.Position.Latitude, l.Position.Longitude, l.CellToken, l.Score,
            double.IsNaN(l.LogProbability) ? null : l.LogProbability, l.Count, l.Place?.Name, l.Place?.CountryCode, l.Place?.DistanceKm))],
        [.. p.Neighbors.Select(n => new NeighborJson(n.Row, n.Similarity, n.Position.Latitude, n.Position.Longitude))]);

    /// <summary>One ranked location.</summary>
    internal sealed record LocationJson(int Rank, double Lat, double Lon, string? S2Cell, double Score, double? LogProbability, int Count, string? Place, string? Country, double? PlaceDistanceKm);

    /// <summary>One retrieved neighbor.</summary>
    internal sealed record NeighborJson(long GalleryRow, double Similarity, double Lat, double Lon);
}

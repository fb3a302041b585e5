using System.Text.Json.Serialization;
using GeoToken.Evaluation;

namespace GeoToken.Cli;

/// <summary>The JSON shape of a metrics result: <c>n, acc_1km … acc_2500km</c> (percent), <c>median_km, mean_km</c>.</summary>
internal record MetricsJson
{
    [JsonPropertyName("n")] public required int N { get; init; }
    [JsonPropertyName("acc_1km")] public required double Acc1Km { get; init; }
    [JsonPropertyName("acc_25km")] public required double Acc25Km { get; init; }
    [JsonPropertyName("acc_200km")] public required double Acc200Km { get; init; }
    [JsonPropertyName("acc_750km")] public required double Acc750Km { get; init; }
    [JsonPropertyName("acc_2500km")] public required double Acc2500Km { get; init; }
    [JsonPropertyName("median_km")] public required double MedianKm { get; init; }
    [JsonPropertyName("mean_km")] public required double MeanKm { get; init; }
    [JsonPropertyName("mean_geoscore")] public required double MeanGeoScore { get; init; }

    public static MetricsJson From(GeoMetrics m) => new()
    {
        N = m.Count,
        Acc1Km = m.Acc1Km,
        Acc25Km = m.Acc25Km,
        Acc200Km = m.Acc200Km,
        Acc750Km = m.Acc750Km,
        Acc2500Km = m.Acc2500Km,
        MedianKm = m.MedianKm,
        MeanKm = m.MeanKm,
        MeanGeoScore = m.MeanGeoScore,
    };
}

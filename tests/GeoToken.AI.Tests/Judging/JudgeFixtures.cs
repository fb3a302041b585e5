using GeoToken.AI.Judging;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Reranking;

namespace GeoToken.AI.Tests.Judging;

internal static class JudgeFixtures
{
    public static readonly GeoCandidate Paris = new() { Position = new LatLng(48.8566, 2.3522), LogProbability = -3.0, Count = 12, Sources = CandidateSources.Sample };
    public static readonly GeoCandidate Lyon = new() { Position = new LatLng(45.764, 4.8357), LogProbability = -2.5, Count = 9, Sources = CandidateSources.Greedy };
    public static readonly GeoCandidate Sydney = new() { Position = new LatLng(-33.8688, 151.2093), LogProbability = -6.0, Count = 1, Sources = CandidateSources.Sample };

    public static IReadOnlyList<GeoCandidate> Pool => [Lyon, Paris, Sydney];

    public static RerankQuery Query(bool withImage = false) => new()
    {
        Id = "q1",
        Neighbors =
        [
            new Neighbor(10, 0.91, new LatLng(48.86, 2.35)),
            new Neighbor(11, 0.88, new LatLng(48.85, 2.29)),
            new Neighbor(12, 0.80, new LatLng(45.76, 4.84)),
            new Neighbor(13, 0.40, new LatLng(-22.9, -43.2)),
        ],
        Image = withImage ? new ImageInput(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3 }, "image/jpeg", "photo.jpg") : null,
    };

    public static MllmJudgeOptions Fast(MllmJudgeMode mode = MllmJudgeMode.PoolSelection) =>
        new() { Mode = mode, RetryDelay = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(10) };
}

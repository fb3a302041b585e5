using GeoToken.Decoding;
using GeoToken.Geometry;

namespace GeoToken.Tests.Decoding;

public sealed class CandidatePoolTests
{
    [Fact]
    public void Duplicates_merge_by_cell_adding_counts_and_sources()
    {
        var cell = S2CellId.FromLatLng(10, 20).Parent(20);
        var other = S2CellId.FromLatLng(-10, 20).Parent(20);
        var a = new GeoCandidate { Position = cell.ToLatLng(), Cell = cell, LogProbability = -4, Sources = CandidateSources.Greedy };
        var b = a with { LogProbability = -3, Sources = CandidateSources.Sample, Count = 2 };
        var c = new GeoCandidate { Position = other.ToLatLng(), Cell = other, LogProbability = -1, Sources = CandidateSources.Sample };
        var merged = CandidatePool.Merge([a, c, b]);
        Assert.Equal(2, merged.Count);
        Assert.Equal(cell, merged[0].Cell);
        Assert.Equal(3, merged[0].Count);
        Assert.Equal(-3, merged[0].LogProbability);
        Assert.Equal(CandidateSources.Greedy | CandidateSources.Sample, merged[0].Sources);
        Assert.Equal(other, merged[1].Cell);
    }
}

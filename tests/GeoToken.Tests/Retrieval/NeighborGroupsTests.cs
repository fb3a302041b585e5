using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Retrieval;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Retrieval;

/// <summary>Training neighbors kept out of the query's own group (<see cref="NeighborCacheOptions.GroupColumn"/>).</summary>
public sealed class NeighborGroupsTests
{
    private const int D = 12;
    private const int K = 8;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Training_neighbors_are_the_nearest_rows_outside_the_rows_own_group()
    {
        using var dir = new TempDir();
        // Every third row has no author; the others share one of 97 authors (up to 5 rows each).
        var authors = Enumerable.Range(0, 600).Select(r => r % 3 == 0 ? "" : $"a{r % 97}").ToArray();
        using var data = Write(dir.File("train"), 600, authors);
        AssertNearestOutsideGroups(data, authors, new NeighborCacheOptions { GroupColumn = "AUTHOR" });
    }

    [Fact]
    public void Groups_larger_than_the_extra_neighbors_of_the_main_search_are_searched_on_their_own()
    {
        using var dir = new TempDir();
        int big = NeighborCache.MaxGroupExtra + 40;
        var authors = Enumerable.Range(0, 700).Select(r => r < big ? "prolific" : $"a{r % 50}").ToArray();
        using var data = Write(dir.File("train"), 700, authors);
        AssertNearestOutsideGroups(data, authors, new NeighborCacheOptions { GroupColumn = "author" });
    }

    [Fact]
    public void Grouped_and_plain_training_neighbors_are_cached_apart_and_other_query_sets_are_not_grouped()
    {
        using var dir = new TempDir();
        var authors = Enumerable.Range(0, 300).Select(r => $"a{r / 4}").ToArray();
        using var train = Write(dir.File("train"), 300, authors);
        using var test = Write(dir.File("test"), 40, Enumerable.Repeat("a0", 40).ToArray(), seed: 9);
        var grouped = new NeighborCacheOptions { GroupColumn = "AUTHOR" };
        string plain = NeighborCache.Ensure(train, train, K, cancellationToken: Ct);
        string withGroups = NeighborCache.Ensure(train, train, K, grouped, cancellationToken: Ct);
        Assert.NotEqual(plain, withGroups);
        using (var p = NeighborFile.Open(plain))
        using (var g = NeighborFile.Open(withGroups))
        {
            Assert.NotEqual(p.Indices.GetRows(0, 300).ToArray(), g.Indices.GetRows(0, 300).ToArray());
        }

        // Test queries are not the gallery: their neighbors ignore the column (a test photo's group is not in the gallery).
        Assert.Equal(NeighborCache.Ensure(test, train, K, cancellationToken: Ct), NeighborCache.Ensure(test, train, K, grouped, cancellationToken: Ct));
    }

    [Fact]
    public void An_unknown_group_column_is_named_with_the_columns_there_are()
    {
        using var dir = new TempDir();
        using var data = Write(dir.File("train"), 50, Enumerable.Repeat("x", 50).ToArray());
        var e = Assert.Throws<GeoDatasetException>(() => NeighborCache.Ensure(data, data, 4, new NeighborCacheOptions { GroupColumn = "SERIES" }, cancellationToken: Ct));
        Assert.Contains("has no column 'SERIES'", e.Message, StringComparison.Ordinal);
        Assert.Contains("AUTHOR", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_holding_almost_the_whole_gallery_is_an_error_naming_the_row()
    {
        using var dir = new TempDir();
        var authors = Enumerable.Range(0, 60).Select(r => r < 55 ? "same" : "").ToArray();
        using var data = Write(dir.File("train"), 60, authors);
        var e = Assert.Throws<InvalidOperationException>(() => NeighborCache.Ensure(data, data, K, new NeighborCacheOptions { GroupColumn = "AUTHOR" }, cancellationToken: Ct));
        Assert.Contains("has only 5 neighbors outside its 'AUTHOR' group (55 of the 60 rows); 8 are needed", e.Message, StringComparison.Ordinal);
    }

    private static void AssertNearestOutsideGroups(GeoDataset data, string[] authors, NeighborCacheOptions options)
    {
        using var file = NeighborFile.Open(NeighborCache.Ensure(data, data, K, options, cancellationToken: Ct));
        Assert.Equal(K, file.K);
        var query = new float[D];
        for (long r = 0; r < data.Rows; r++)
        {
            data.Image.ReadRow(r, query);
            var expected = RetrievalTestData.Reference(data.Image, query, exclude: r)
                .Where(t => authors[r].Length == 0 || authors[t.Row] != authors[r])
                .Take(K)
                .Select(t => t.Row)
                .ToArray();
            Assert.Equal(expected, file.Indices.GetRow(r).ToArray());
        }
    }

    private static GeoDataset Write(string folder, int rows, string[] authors, int seed = 3)
    {
        var image = RetrievalTestData.Clustered(rows, D, 6, seed);
        using (var writer = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions { ImageDimension = D, ExtraColumns = ["AUTHOR"] }))
        {
            for (int r = 0; r < rows; r++) writer.WriteRow($"img{r}", new LatLng(r % 80, r % 170), image.AsSpan(r * D, D), extra: [authors[r]]);
            writer.Commit();
        }

        return GeoDataset.Open(folder);
    }
}

using GeoToken.Data;
using GeoToken.Retrieval;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Retrieval;

/// <summary>The retrieval contract (INeighborSearch): the indexes, neighbor files and a search of another kind behind it.</summary>
public sealed class NeighborSearchContractTests
{
    private const int D = 16;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Indexes_answer_any_range_of_queries_as_a_whole_search_does()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(900, D, 9, 1), D);
        using var exact = ExactIndex.Create(gallery, Ct);
        using var cluster = ClusterIndex.Build(gallery, new ClusterIndexOptions { Clusters = 12, LeafSize = 16 }, cancellationToken: Ct);
        foreach (NeighborIndex index in new NeighborIndex[] { exact, cluster })
        {
            INeighborSearch search = index;
            Assert.Equal(900, search.GalleryRows);
            Assert.Equal(D, search.Dimension);
            Assert.Equal(index.GalleryFingerprint.Sha256, search.GalleryId);
            foreach (bool self in new[] { false, true })
            {
                var whole = index.Search(gallery, new SearchOptions { K = 6, ExcludeSelf = self }, Ct);
                var part = await search.SearchAsync(new NeighborQueries { Vectors = gallery, Start = 333, Count = 100, K = 6, ExcludeSelf = self }, Ct);
                Assert.Equal(100, part.QueryCount);
                Assert.Equal(whole.Indices.Slice(333 * 6, 600).ToArray(), part.Indices.ToArray());
                Assert.Equal(whole.Similarities.Slice(333 * 6, 600).ToArray(), part.Similarities.ToArray());
                if (self)
                {
                    for (int q = 0; q < 100; q++) Assert.DoesNotContain(333L + q, part.IndicesOf(q).ToArray());
                }
            }

            var outside = new NeighborQueries { Vectors = gallery, Start = 880, Count = 40, K = 6 };
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await search.SearchAsync(outside, Ct));
        }
    }

    [Fact]
    public async Task Neighbor_files_answer_by_query_row_and_name_rows_outside_the_gallery()
    {
        using var dir = new TempDir();
        var data = RetrievalTestData.Clustered(200, D, 5, 2);
        RetrievalTestData.WriteDataset(dir.File("gallery"), data, D);
        using var gallery = GeoDataset.Open(dir.File("gallery"));
        using var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(30, D, 5, 2, sampleSeed: 9), D);
        using var index = ExactIndex.Create(gallery.Image, Ct);
        string prefix = dir.File("nb");
        using (var sink = new NeighborFileWriter(prefix)) index.Search(queries, new SearchOptions { K = 5 }, sink, cancellationToken: Ct);
        var expected = index.Search(queries, new SearchOptions { K = 5 }, Ct);

        using var file = NeighborFile.Open(prefix);
        using var precomputed = new PrecomputedNeighborSearch(file, gallery);
        Assert.Equal(200, precomputed.GalleryRows);
        Assert.Equal(D, precomputed.Dimension);
        Assert.Equal(gallery.ContentId, precomputed.GalleryId);
        var rows = await precomputed.SearchAsync(new NeighborQueries { Vectors = queries, Start = 10, Count = 4, K = 3 }, Ct);
        for (int q = 0; q < 4; q++)
        {
            Assert.Equal(expected.IndicesOf(10 + q)[..3].ToArray(), rows.IndicesOf(q).ToArray());
            Assert.Equal(expected.SimilaritiesOf(10 + q)[..3].ToArray(), rows.SimilaritiesOf(q).ToArray());
        }

        Assert.Contains("holds 5 neighbors per query", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await precomputed.SearchAsync(new NeighborQueries { Vectors = queries, K = 6 }, Ct))).Message);
        using var fewer = FeatureMatrix.FromArray(new float[29 * D], D);
        Assert.Contains("has 30 rows but the query set has 29", (await Assert.ThrowsAsync<ArgumentException>(async () => await precomputed.SearchAsync(new NeighborQueries { Vectors = fewer, K = 2 }, Ct))).Message);

        // A file whose rows point past the gallery (e.g. made for a larger one) is named with the row.
        string bad = dir.File("bad");
        var ids = expected.Indices.ToArray();
        ids[7 * 5 + 2] = 200;
        using (var sink = new NeighborFileWriter(bad))
        {
            sink.Begin(30, 5);
            sink.Write(0, ids, expected.Similarities);
            sink.Complete();
        }

        using var badFile = NeighborFile.Open(bad);
        using var badSearch = new PrecomputedNeighborSearch(badFile, gallery);
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () => await badSearch.SearchAsync(new NeighborQueries { Vectors = queries, K = 5 }, Ct));
        Assert.Contains("bad_I.npy, row 8 (index 7): neighbor 3 is gallery row index 200, outside the gallery's 200 rows", e.Message);
    }

    [Fact]
    public void Neighbor_caches_computed_by_another_search_are_named_and_recorded_with_it_and_its_results_checked()
    {
        using var dir = new TempDir();
        RetrievalTestData.WriteDataset(dir.File("gallery"), RetrievalTestData.Clustered(300, D, 6, 3), D);
        RetrievalTestData.WriteDataset(dir.File("queries"), RetrievalTestData.Clustered(40, D, 6, 3, sampleSeed: 4), D);
        using var gallery = GeoDataset.Open(dir.File("gallery"));
        using var queries = GeoDataset.Open(dir.File("queries"));
        using var index = ExactIndex.Create(gallery.Image, Ct);
        var other = new RecordingSearch(index, "brute force");
        var options = new NeighborCacheOptions { Directory = dir.File("cache"), Search = other };
        string prefix = NeighborCache.Ensure(queries, gallery, 4, options, cancellationToken: Ct);
        Assert.EndsWith("_k4-brute_force", prefix);
        Assert.True(other.Calls > 0);
        string plain = NeighborCache.Ensure(queries, gallery, 4, options with { Search = null }, cancellationToken: Ct);
        Assert.NotEqual(plain, prefix);
        using (var a = NeighborFile.Open(prefix, new NeighborFileProvenance(queries.ContentId, gallery.ContentId, "search: brute force")))
        using (var b = NeighborFile.Open(plain))
        {
            Assert.Equal(b.Indices.GetRows(0, 40).ToArray(), a.Indices.GetRows(0, 40).ToArray());
        }

        // Training neighbors (the gallery searched against itself) through the contract: no row is its own neighbor.
        string self = NeighborCache.Ensure(gallery, gallery, 3, options, cancellationToken: Ct);
        using (var s = NeighborFile.Open(self))
        {
            for (long r = 0; r < 300; r++) Assert.DoesNotContain(r, s.Indices.GetRow(r).ToArray());
        }

        // A search that breaks the contract (a row outside the gallery) is caught, naming it and the query.
        var broken = new RecordingSearch(index, "broken", corruptRow: 17);
        var e = Assert.Throws<InvalidDataException>(() => NeighborCache.Ensure(queries, gallery, 4, options with { Search = broken, Directory = dir.File("cache2") }, cancellationToken: Ct));
        Assert.Contains("The broken search returned, for query row 18 (index 17), neighbor 1 = gallery row index 300", e.Message);
    }


    /// <summary>Another search behind the contract: passes queries to an index, counting calls; can corrupt one query row.</summary>
    private sealed class RecordingSearch(INeighborSearch inner, string method, long corruptRow = -1) : INeighborSearch
    {
        public int Calls;

        public string Method => method;

        public long GalleryRows => inner.GalleryRows;

        public int Dimension => inner.Dimension;

        public string? GalleryId => inner.GalleryId;

        public async ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            var found = await inner.SearchAsync(queries, cancellationToken);
            var ids = found.Indices.ToArray();
            long local = corruptRow - queries.Start;
            if (local >= 0 && local < queries.QueryCount) ids[local * found.K] = GalleryRows;
            return NeighborResults.FromArrays(found.K, ids, found.Similarities.ToArray());
        }
    }
}

using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Tests.Retrieval;

public sealed class ExactIndexTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(300, 40, 37, 10, 1)]
    [InlineData(700, 33, 250, 15, 2)]
    [InlineData(1000, 64, 3, 50, 2)]
    public void Results_match_a_naive_double_precision_reference(int rows, int d, int queries, int k, int threads)
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Random(rows, d, 1), d);
        var q = RetrievalTestData.Random(queries, d, 2);
        using var index = ExactIndex.Create(gallery, Ct);
        var results = index.Search(FeatureMatrix.FromArray(q, d), new SearchOptions { K = k, MaxDegreeOfParallelism = threads, QueryBatchSize = 100 }, Ct);
        Assert.Equal(queries, results.QueryCount);
        for (int i = 0; i < queries; i++)
        {
            var reference = RetrievalTestData.Reference(gallery, q.AsSpan(i * d, d));
            AssertMatchesReference(reference, results.IndicesOf(i), results.SimilaritiesOf(i));
        }
    }

    [Fact]
    public void Exclude_self_returns_ranks_1_to_k_of_the_gallery_searched_against_itself()
    {
        int rows = 400, d = 32, k = 15;
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(rows, d, 20, 7), d);
        using var index = ExactIndex.Create(gallery, Ct);
        var with = index.Search(gallery, new SearchOptions { K = k + 1 }, Ct);
        var without = index.Search(gallery, new SearchOptions { K = k, ExcludeSelf = true }, Ct);
        for (int i = 0; i < rows; i++)
        {
            Assert.DoesNotContain(i, without.IndicesOf(i).ToArray());
            var reference = RetrievalTestData.Reference(gallery, ReadRow(gallery, i), exclude: i);
            AssertMatchesReference(reference, without.IndicesOf(i), without.SimilaritiesOf(i));
            // Without exclusion the query itself comes first (similarity 1).
            Assert.Equal(i, with.IndicesOf(i)[0]);
            Assert.Equal(without.IndicesOf(i).ToArray(), with.IndicesOf(i)[1..].ToArray());
        }
    }

    [Fact]
    public void Exclude_self_accepts_a_second_copy_of_the_gallery_but_not_other_queries()
    {
        int rows = 100, d = 16;
        var data = RetrievalTestData.Random(rows, d, 3);
        using var gallery = FeatureMatrix.FromArray(data, d);
        using var index = ExactIndex.Create(gallery, Ct);
        var copy = FeatureMatrix.FromArray(data.ToArray(), d);
        var results = index.Search(copy, new SearchOptions { K = 3, ExcludeSelf = true }, Ct);
        Assert.DoesNotContain(5L, results.IndicesOf(5).ToArray());

        var other = data.ToArray();
        other[0] += 0.5f;
        var e = Assert.Throws<ArgumentException>(() => index.Search(FeatureMatrix.FromArray(other, d), new SearchOptions { K = 3, ExcludeSelf = true }, Ct));
        Assert.Contains("ExcludeSelf needs the query set to be the gallery", e.Message);
        e = Assert.Throws<ArgumentException>(() => index.Search(FeatureMatrix.FromArray(data.AsSpan(0, 50 * d).ToArray(), d), new SearchOptions { K = 3, ExcludeSelf = true }, Ct));
        Assert.Contains("50 queries and 100 gallery rows", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Ties_put_the_lower_gallery_row_first_across_blocks_and_shards(int threads)
    {
        int rows = 1200, d = 24;
        var data = RetrievalTestData.Random(rows, d, 11);
        int[] copies = [5, 300, 600, 1100];
        foreach (int c in copies) data.AsSpan(0, d).CopyTo(data.AsSpan(c * d, d)); // rows 0, 5, 300, 600, 1100 are identical
        using var gallery = FeatureMatrix.FromArray(data, d);
        using var index = ExactIndex.Create(gallery, Ct);
        var query = FeatureMatrix.FromArray(data.AsSpan(0, d).ToArray(), d);
        var r = index.Search(query, new SearchOptions { K = 6, MaxDegreeOfParallelism = threads }, Ct);
        Assert.Equal(new long[] { 0, 5, 300, 600, 1100 }, r.IndicesOf(0)[..5].ToArray());
        var s = r.SimilaritiesOf(0);
        for (int i = 1; i < 5; i++) Assert.Equal(s[0], s[i]);
        Assert.True(s[5] < s[4]);
        var excluded = index.Search(gallery, new SearchOptions { K = 4, ExcludeSelf = true, MaxDegreeOfParallelism = threads }, Ct);
        Assert.Equal(new long[] { 0, 5, 600, 1100 }, excluded.IndicesOf(300).ToArray());
    }

    [Fact]
    public void Float16_and_float32_storage_give_identical_results()
    {
        int rows = 500, d = 48;
        var h = RetrievalTestData.ToHalf(RetrievalTestData.Clustered(rows, d, 10, 5));
        var f = RetrievalTestData.FromHalf(h);
        var qh = RetrievalTestData.ToHalf(RetrievalTestData.Clustered(40, d, 10, 5, sampleSeed: 6));
        using var g16 = FeatureMatrix.FromArray(h, d);
        using var g32 = FeatureMatrix.FromArray(f, d);
        using var i16 = ExactIndex.Create(g16, Ct);
        using var i32 = ExactIndex.Create(g32, Ct);
        var a = i16.Search(FeatureMatrix.FromArray(qh, d), new SearchOptions { K = 20 }, Ct);
        var b = i32.Search(FeatureMatrix.FromArray(RetrievalTestData.FromHalf(qh), d), new SearchOptions { K = 20 }, Ct);
        Assert.Equal(b.Indices.ToArray(), a.Indices.ToArray());
        Assert.Equal(b.Similarities.ToArray(), a.Similarities.ToArray());
    }

    [Fact]
    public void Similarity_is_cosine_so_scaling_vectors_changes_nothing()
    {
        int rows = 200, d = 20;
        var data = RetrievalTestData.Random(rows, d, 8);
        var scaled = data.Select((v, i) => v * (1 + i / d % 7) * 0.25f).ToArray();
        var q = RetrievalTestData.Random(10, d, 9);
        using var a = ExactIndex.Create(FeatureMatrix.FromArray(data, d), Ct);
        using var b = ExactIndex.Create(FeatureMatrix.FromArray(scaled, d), Ct);
        var ra = a.Search(FeatureMatrix.FromArray(q, d), new SearchOptions { K = 10 }, Ct);
        var rb = b.Search(FeatureMatrix.FromArray(q.Select(v => v * 3).ToArray(), d), new SearchOptions { K = 10 }, Ct);
        // Scaling by 3, 5 or 7 rounds the normalised vectors differently, so the similarities agree within 5e-6,
        // rank by rank; rows may change places only where two similarities tie within that, and a row found by
        // both has the same similarity in both.
        for (int i = 0; i < ra.Similarities.Length; i++) Assert.Equal(ra.Similarities[i], rb.Similarities[i], 5e-6);
        for (int query = 0; query < 10; query++)
        {
            var (ia, sa, ib, sb) = (ra.IndicesOf(query).ToArray(), ra.SimilaritiesOf(query).ToArray(), rb.IndicesOf(query).ToArray(), rb.SimilaritiesOf(query).ToArray());
            for (int r = 0; r < ia.Length; r++)
            {
                int s = Array.IndexOf(ib, ia[r]);
                if (s >= 0) Assert.Equal(sa[r], sb[s], 5e-6);
            }
        }
        Assert.All(ra.Similarities.ToArray(), s => Assert.InRange(s, -1.0001f, 1.0001f));
    }

    [Fact]
    public void Large_k_returns_the_whole_ordering()
    {
        int rows = 1000, d = 16;
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Random(rows, d, 12), d);
        using var index = ExactIndex.Create(gallery, Ct);
        var q = RetrievalTestData.Random(2, d, 13);
        var r = index.Search(FeatureMatrix.FromArray(q, d), new SearchOptions { K = 1000 }, Ct);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(Enumerable.Range(0, rows).Select(x => (long)x).ToHashSet(), r.IndicesOf(i).ToArray().ToHashSet());
            AssertMatchesReference(RetrievalTestData.Reference(gallery, q.AsSpan(i * d, d)), r.IndicesOf(i), r.SimilaritiesOf(i));
        }
    }

    [Fact]
    public void Sink_receives_blocks_in_query_order_and_progress_is_reported()
    {
        int rows = 300, d = 8;
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Random(rows, d, 14), d);
        using var index = ExactIndex.Create(gallery, Ct);
        var sink = new RecordingSink();
        var reports = new List<SearchProgress>();
        var stats = index.Search(FeatureMatrix.FromArray(RetrievalTestData.Random(250, d, 15), d), new SearchOptions { K = 4, QueryBatchSize = 100 }, sink, new SyncProgress<SearchProgress>(reports.Add), Ct);
        Assert.Equal((250L, 4), sink.Begun);
        Assert.Equal(new long[] { 0, 100, 200 }, sink.Starts);
        Assert.Equal(new[] { 400, 400, 200 }, sink.Lengths);
        Assert.True(sink.Completed);
        Assert.Equal(new long[] { 100, 200, 250 }, reports.Select(p => p.QueriesDone));
        Assert.Equal(250, stats.Queries);
        Assert.Equal(1.0, stats.ScannedFraction);
        Assert.Equal("exact", stats.Method);
    }

    [Fact]
    public void Cancellation_stops_the_search_and_the_sink_is_not_completed()
    {
        int rows = 2000, d = 64;
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Random(rows, d, 16), d);
        using var index = ExactIndex.Create(gallery, Ct);
        var sink = new RecordingSink();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<SearchProgress>(_ => cts.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() => index.Search(gallery, new SearchOptions { K = 5, QueryBatchSize = 100 }, sink, progress, cts.Token));
        Assert.False(sink.Completed);
        Assert.Single(sink.Starts);
    }

    [Fact]
    public void Bad_input_gets_clear_errors()
    {
        int d = 8;
        var data = RetrievalTestData.Random(50, d, 17);
        using var gallery = FeatureMatrix.FromArray(data, d);
        using var index = ExactIndex.Create(gallery, Ct);

        var e = Assert.Throws<ArgumentException>(() => index.Search(FeatureMatrix.FromArray(new float[3 * 9], 9), new SearchOptions(), Ct));
        Assert.Contains("have dimension 9 but the gallery (an in-memory", e.Message);
        Assert.Contains("has dimension 8", e.Message);

        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(gallery, new SearchOptions { K = 51 }, Ct));
        Assert.Contains("K = 51 exceeds the gallery's 50 rows", tooMany.Message);
        tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(gallery, new SearchOptions { K = 50, ExcludeSelf = true }, Ct));
        Assert.Contains("exceeds the 49 other rows", tooMany.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(gallery, new SearchOptions { K = 0 }, Ct));

        var empty = Assert.Throws<ArgumentException>(() => ExactIndex.Create(FeatureMatrix.FromArray(Array.Empty<float>(), d), Ct));
        Assert.Contains("empty", empty.Message);

        var zero = data.ToArray();
        zero.AsSpan(17 * d, d).Clear();
        var z = Assert.Throws<InvalidVectorException>(() => ExactIndex.Create(FeatureMatrix.FromArray(zero, d), Ct));
        Assert.Equal(17, z.Row);
        Assert.Contains("Gallery row 18 (index 17) is a zero vector", z.Message);

        var nan = data.ToArray();
        nan[33 * d + 4] = float.NaN;
        nan[40 * d + 1] = float.PositiveInfinity;
        var n = Assert.Throws<InvalidVectorException>(() => ExactIndex.Create(FeatureMatrix.FromArray(nan, d), Ct));
        Assert.Contains("Gallery row 34 (index 33) holds NaN (column 4)", n.Message);

        var badQuery = RetrievalTestData.Random(5, d, 18);
        badQuery[3 * d + 2] = float.NegativeInfinity;
        var q = Assert.Throws<InvalidVectorException>(() => index.Search(FeatureMatrix.FromArray(badQuery, d), new SearchOptions { K = 3 }, Ct));
        Assert.Equal("query", q.Matrix);
        Assert.Contains("Query row 4 (index 3) of an in-memory 5 × 8 matrix holds -Infinity (column 2)", q.Message);

        var h = RetrievalTestData.ToHalf(data);
        h[9 * d] = Half.NaN;
        var hn = Assert.Throws<InvalidVectorException>(() => ExactIndex.Create(FeatureMatrix.FromArray(h, d), Ct));
        Assert.Equal(9, hn.Row);
    }

    internal static void AssertMatchesReference((long Row, double Similarity)[] reference, ReadOnlySpan<long> ids, ReadOnlySpan<float> sims)
    {
        var byRow = reference.ToDictionary(t => t.Row, t => t.Similarity);
        for (int r = 0; r < ids.Length; r++)
        {
            // Each returned row's similarity is right, and rank r holds the r-th best similarity (ties may swap).
            Assert.True(Math.Abs(byRow[ids[r]] - sims[r]) < 1e-5, $"row {ids[r]}: {sims[r]} vs {byRow[ids[r]]}");
            Assert.True(Math.Abs(reference[r].Similarity - sims[r]) < 1e-5, $"rank {r}: {sims[r]} vs {reference[r].Similarity}");
            if (r > 0) Assert.True(sims[r] < sims[r - 1] || (sims[r] == sims[r - 1] && ids[r] > ids[r - 1]), $"rank {r} out of order");
        }

        Assert.Equal(ids.Length, ids.ToArray().Distinct().Count());
    }

    internal static float[] ReadRow(FeatureMatrix m, long row)
    {
        var r = new float[m.Columns];
        m.ReadRow(row, r);
        return r;
    }

    internal sealed class RecordingSink : INeighborSink
    {
        public (long, int)? Begun { get; private set; }

        public List<long> Starts { get; } = [];

        public List<int> Lengths { get; } = [];

        public bool Completed { get; private set; }

        public void Begin(long queryCount, int k) => Begun = (queryCount, k);

        public void Write(long firstQuery, ReadOnlySpan<long> indices, ReadOnlySpan<float> similarities)
        {
            Starts.Add(firstQuery);
            Lengths.Add(indices.Length);
        }

        public void Complete() => Completed = true;
    }

    internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

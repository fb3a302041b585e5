using GeoToken.Data;
using GeoToken.Geometry;
using Npgsql;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>A SynthGeo gallery pushed into a real PostgreSQL 17 + pgvector server: search against exact search, pushes, additions.</summary>
public sealed class PgGalleryTests(PostgresServer server, SynthGallery data)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Gallery and queries are float16 files and the table stores float16, so pgvector compares exactly the values exact
    /// search does; what differs is float32 accumulation order and normalisation (ExactIndex scales vectors to unit length
    /// in float32, pgvector divides by the norms): a few float32 ulps of 1 per step over 64 terms, well under 2e-5.
    /// </summary>
    private const double Tolerance = 2e-5;

    private static int _tables;

    private static int Column(GeoDataset d, string name) => d.MetaColumns.ToList().IndexOf(name);

    private static string NewTable(string stem) => $"{stem}_{Interlocked.Increment(ref _tables)}";

    private async Task<(NpgsqlDataSource Source, PgPushReport Report)> PushAsync(string table, PgPushOptions? options = null)
    {
        var source = server.CreateDataSource();
        var report = await PgGalleryPush.PushAsync(source, data.Train, (options ?? new PgPushOptions()) with { Table = table }, cancellationToken: Ct);
        return (source, report);
    }

    /// <summary>The cosine similarity of test row <paramref name="query"/> and gallery row <paramref name="row"/> in float64.</summary>
    private double TrueSimilarity(GeoDataset queries, long query, long row)
    {
        var q = SynthGallery.Features(queries, query);
        var g = SynthGallery.Features(data.Train, row);
        double dot = 0, nq = 0, ng = 0;
        for (int i = 0; i < q.Length; i++)
        {
            dot += (double)q[i] * g[i];
            nq += (double)q[i] * q[i];
            ng += (double)g[i] * g[i];
        }

        return dot / Math.Sqrt(nq * ng);
    }

    /// <summary>
    /// Asserts that <paramref name="found"/> is a correct exact answer: similarities right, best first, and wherever it
    /// differs from <paramref name="exact"/> the competing neighbors' similarities tie within <see cref="Tolerance"/>.
    /// </summary>
    private void AssertExact(GeoDataset queries, long start, NeighborResults found, NeighborResults exact)
    {
        Assert.Equal(exact.QueryCount, found.QueryCount);
        for (long i = 0; i < found.QueryCount; i++)
        {
            var ids = found.IndicesOf(i);
            var sims = found.SimilaritiesOf(i);
            var want = exact.IndicesOf(i);
            for (int j = 0; j < ids.Length; j++)
            {
                double truth = TrueSimilarity(queries, start + i, ids[j]);
                Assert.True(Math.Abs(sims[j] - truth) <= Tolerance, $"query {start + i}, neighbor {j}: similarity {sims[j]} vs {truth}");
                if (j > 0) Assert.True(sims[j] <= sims[j - 1], $"query {start + i}: not best first at {j}");
                if (ids[j] != want[j])
                {
                    double other = TrueSimilarity(queries, start + i, want[j]);
                    Assert.True(Math.Abs(truth - other) <= Tolerance, $"query {start + i}, neighbor {j}: row {ids[j]} ({truth}) instead of {want[j]} ({other})");
                }
            }
        }
    }

    [Fact]
    public async Task Push_records_the_dataset_and_exact_search_equals_ExactIndex()
    {
        string table = NewTable("exact");
        var (source, report) = await PushAsync(table);
        await using var _ = source;
        Assert.Equal(data.Train.Rows, report.RowsAdded);
        Assert.Equal(data.Train.Rows, report.TableRows);
        Assert.True(report.IndexBuilt);
        Assert.True(report.IndexBytes > 0);

        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        Assert.Equal(data.Train.ContentId, gallery.Info.ContentId);
        Assert.Equal(data.Train.Rows, gallery.Info.DatasetRows);
        Assert.True(gallery.Info.HasSeries);
        Assert.NotNull(gallery.Info.IndexedAt);
        Assert.Equal(data.Train.Rows, gallery.GalleryRows);
        Assert.Equal(64, gallery.Dimension);

        gallery.SearchDefaults = new PgSearchOptions { Exact = true };
        var queries = new NeighborQueries { Vectors = data.Test.Image, K = 10 };
        var found = await gallery.SearchAsync(queries, Ct);
        found.CheckFrom(gallery, queries);
        using var exact = ExactIndex.Create(data.Train.Image, Ct);
        var expected = await exact.SearchAsync(queries, Ct);
        AssertExact(data.Test, 0, found, expected);
    }

    [Fact]
    public async Task Hnsw_at_default_ef_search_has_recall_at_10_of_at_least_95_percent()
    {
        string table = NewTable("hnsw");
        var (source, _) = await PushAsync(table);
        await using var _s = source;
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        Assert.Equal(40, gallery.SearchDefaults.EfSearch);
        var queries = new NeighborQueries { Vectors = data.Test.Image, K = 10 };
        var found = await gallery.SearchAsync(queries, Ct);
        found.CheckFrom(gallery, queries);
        using var exact = ExactIndex.Create(data.Train.Image, Ct);
        var expected = await exact.SearchAsync(queries, Ct);
        long hits = 0;
        for (long i = 0; i < found.QueryCount; i++)
        {
            // A row counts as found when it is exact's or ties exact's k-th similarity within the tolerance.
            double kth = TrueSimilarity(data.Test, i, expected.IndicesOf(i)[^1]);
            foreach (long row in found.IndicesOf(i)) hits += expected.IndicesOf(i).Contains(row) || TrueSimilarity(data.Test, i, row) >= kth - Tolerance ? 1 : 0;
        }

        double recall = hits / (double)(found.QueryCount * 10);
        Assert.True(recall >= 0.95, $"recall@10 = {recall:F3}");
    }

    [Fact]
    public async Task ExcludeSelf_never_returns_the_query_row_and_equals_exact_search()
    {
        string table = NewTable("self");
        var (source, _) = await PushAsync(table);
        await using var _s = source;
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        var queries = new NeighborQueries { Vectors = data.Train.Image, Start = 500, Count = 100, K = 8, ExcludeSelf = true };
        using var exact = ExactIndex.Create(data.Train.Image, Ct);
        var expected = await exact.SearchAsync(queries, Ct);

        gallery.SearchDefaults = new PgSearchOptions { Exact = true };
        AssertExact(data.Train, 500, await gallery.SearchAsync(queries, Ct), expected);

        // Through the HNSW index the filter needs pgvector's iterative scan; every query still gets K rows, none itself.
        gallery.SearchDefaults = new PgSearchOptions();
        var found = await gallery.SearchAsync(queries, Ct);
        found.CheckFrom(gallery, queries);
        for (long i = 0; i < found.QueryCount; i++) Assert.DoesNotContain(500 + i, found.IndicesOf(i).ToArray());
    }

    [Fact]
    public async Task Training_neighbors_outside_the_photo_series_come_out_as_with_exact_search()
    {
        string table = NewTable("train");
        var (source, _) = await PushAsync(table);
        await using var _s = source;
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        gallery.SearchDefaults = new PgSearchOptions { Exact = true };
        string dir = Directory.CreateTempSubdirectory("geotoken-pg-nb-").FullName;
        try
        {
            // The cache asks the search for k + (largest series − 1) neighbors with ExcludeSelf and drops the series' own.
            string viaPg = NeighborCache.Ensure(data.Train, data.Train, 5, new NeighborCacheOptions { Directory = Path.Combine(dir, "pg"), GroupColumn = "SERIES", Search = gallery }, cancellationToken: Ct);
            string viaExact = NeighborCache.Ensure(data.Train, data.Train, 5, new NeighborCacheOptions { Directory = Path.Combine(dir, "exact"), GroupColumn = "SERIES" }, cancellationToken: Ct);
            using var a = NeighborFile.Open(viaPg);
            using var b = NeighborFile.Open(viaExact);
            var series = data.Train.ReadColumn("SERIES").ToArray();
            Assert.Contains(series, v => v.Length > 0);
            for (long q = 0; q < a.QueryCount; q++)
            {
                for (int j = 0; j < 5; j++)
                {
                    Assert.True(series[q].Length == 0 || series[q] != series[a.Indices[q, j]], $"row {q}: neighbor {j} is of its series '{series[q]}'"); // empty: no series
                    Assert.True(a.Indices[q, j] == b.Indices[q, j] || Math.Abs(a.Similarities[q, j] - b.Similarities[q, j]) <= Tolerance, $"row {q}, neighbor {j}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_push_adds_nothing()
    {
        string table = NewTable("twice");
        var (source, first) = await PushAsync(table, new PgPushOptions { ChunkRows = 1000 });
        await using var _s = source;
        var second = await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table, ChunkRows = 1000 }, cancellationToken: Ct);
        Assert.Equal(3, first.ChunksLoaded);
        Assert.Equal(0, second.RowsAdded);
        Assert.Equal(0, second.ChunksLoaded);
        Assert.Equal(3, second.ChunksSkipped);
        Assert.False(second.IndexBuilt);
        Assert.Equal(data.Train.Rows, second.TableRows);
    }

    [Fact]
    public async Task An_interrupted_push_resumes_where_it_stopped()
    {
        string table = NewTable("resume");
        await using var source = server.CreateDataSource();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        // Stop after the second of six chunks, as a kill would (the chunk in flight is rolled back).
        var progress = new SyncProgress(p =>
        {
            if (p.Stage == "load" && p.RowsDone >= 1000) cts.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table, ChunkRows = 500 }, progress, cts.Token));
        long partial;
        await using (var conn = await source.OpenConnectionAsync(Ct))
        await using (var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", conn))
        {
            partial = (long)(await count.ExecuteScalarAsync(Ct))!;
        }

        Assert.Equal(1000, partial);

        var report = await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table, ChunkRows = 500 }, cancellationToken: Ct);
        Assert.Equal(2, report.ChunksSkipped);
        Assert.Equal(4, report.ChunksLoaded);
        Assert.Equal(data.Train.Rows - 1000, report.RowsAdded);
        Assert.Equal(data.Train.Rows, report.TableRows);
        Assert.True(report.IndexBuilt);
    }

    [Fact]
    public async Task A_table_holding_another_dataset_is_refused()
    {
        string table = NewTable("other");
        var (source, _) = await PushAsync(table, new PgPushOptions { BuildIndex = false });
        await using var _s = source;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => PgGalleryPush.PushAsync(source, data.Test, new PgPushOptions { Table = table }, cancellationToken: Ct));
        Assert.Contains(table, e.Message, StringComparison.Ordinal);
        Assert.Contains(data.Train.ContentId, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_live_addition_is_found_by_the_next_search()
    {
        string table = NewTable("live");
        var (source, _) = await PushAsync(table);
        await using var _s = source;
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        var feature = SynthGallery.Features(data.Test, 7);
        using var query = FeatureMatrix.FromArray(feature, feature.Length);
        var request = new NeighborQueries { Vectors = query, K = 5 };
        var before = await gallery.SearchAsync(request, Ct);
        Assert.True(before.SimilaritiesOf(0)[0] < 0.9999f);

        // Another process adds the photo (its own connection and gallery object); this one finds it on its next search.
        await using (var writer = await PgGallery.OpenAsync(new PgGalleryAddress { ConnectionString = server.ConnectionString, Table = table }, Ct))
        {
            var rows = await writer.AddAsync([new PgGalleryRow { ImageId = "live-1", Location = new LatLng(43.77, 11.25), Features = [feature], Series = "live" }], Ct);
            Assert.Equal([data.Train.Rows], rows);
            var again = await writer.AddAsync([new PgGalleryRow { ImageId = "live-1", Location = new LatLng(0, 0), Features = [feature] }], Ct);
            Assert.Equal([null], again);
        }

        var after = await gallery.SearchAsync(request, Ct);
        after.CheckFrom(gallery, request);
        Assert.Equal(data.Train.Rows + 1, gallery.GalleryRows);
        Assert.Equal(data.Train.Rows, after.IndicesOf(0)[0]);
        Assert.True(after.SimilaritiesOf(0)[0] > 0.9999f);
        Assert.Equal(before.IndicesOf(0)[..4].ToArray(), after.IndicesOf(0)[1..].ToArray());
    }

    [Fact]
    public async Task Rows_come_with_the_search_as_they_were_added_within_float16_rounding()
    {
        string table = NewTable("rows");
        await using var source = server.CreateDataSource();
        // Views in a non-canonical order: the search returns them as image, location, text whatever the table's column order.
        await using var gallery = await PgGallery.CreateAsync(source, table, 16, [FeatureModality.Image, FeatureModality.Text, FeatureModality.Location], Ct);
        var rng = new Random(3);
        float[] Vector() => [.. Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        var photos = Enumerable.Range(0, 20).Select(i => new PgGalleryRow
        {
            ImageId = $"p{i}",
            Location = new LatLng(rng.NextDouble() * 170 - 85, rng.NextDouble() * 360 - 180),
            Features = [Vector(), Vector(), Vector()], // image, text, location (the table's order)
        }).ToArray();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long?)i), await gallery.AddAsync(photos, Ct));
        gallery.SearchDefaults = new PgSearchOptions { Exact = true };

        var queries = new float[3 * 16];
        for (int q = 0; q < 3; q++) photos[q * 5].Features[0].Span.CopyTo(queries.AsSpan(q * 16));
        using var matrix = FeatureMatrix.FromArray(queries, 16);
        var request = new NeighborQueries { Vectors = matrix, K = 4 };
        var rows = await gallery.SearchRowsAsync(request, 3, Ct);
        var plain = await gallery.SearchAsync(request, Ct);
        Assert.Equal(plain.IndicesOf(0).ToArray(), rows.Results.IndicesOf(0).ToArray());
        var tokenizer = new Tokens.GeoTokenizer();
        for (int q = 0; q < 3; q++)
        {
            Assert.Equal(q * 5, rows.Results.IndicesOf(q)[0]); // the query is the photo itself
            for (int j = 0; j < 4; j++)
            {
                var photo = photos[rows.Results.IndicesOf(q)[j]];
                Assert.Equal(photo.Location, rows.GetLocation(q, j)); // double precision columns: exact
                Assert.Equal(tokenizer.Encode(photo.Location.Latitude, photo.Location.Longitude), rows.GetTokens(q, j).ToArray().Select(t => (int)t));
                int[] source2 = [0, 2, 1]; // canonical view v → the photo's feature index (image, location, text)
                for (int v = 0; v < 3; v++)
                {
                    var want = photo.Features[source2[v]].Span;
                    var got = rows.GetFeatures(q, j, v);
                    for (int c = 0; c < 16; c++)
                    {
                        // halfvec stores float16: the value is the float16 rounding of what was added (relative error ≤ 2⁻¹¹,
                        // absolute ≤ 2⁻²⁵ for subnormals), and converting it back to float is exact.
                        Assert.Equal((float)(Half)want[c], got[c]);
                        Assert.True(Math.Abs(got[c] - want[c]) <= Math.Abs(want[c]) * 0.00049 + 3e-8, $"query {q}, neighbor {j}, view {v}, column {c}: {got[c]} vs {want[c]}");
                    }
                }
            }
        }

        await using var imageOnly = await PgGallery.CreateAsync(source, NewTable("rows_image"), 16, [FeatureModality.Image], Ct);
        await imageOnly.AddAsync([.. photos.Take(5).Select(p => p with { Features = [p.Features[0]] })], Ct);
        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await imageOnly.SearchRowsAsync(request with { K = 2 }, 2, Ct));
        Assert.Contains("Location", e.Message);
    }

    [Fact]
    public async Task A_snapshot_folder_holds_the_tables_rows_and_is_reused_until_rows_are_added()
    {
        string table = NewTable("snap");
        var (source, _) = await PushAsync(table, new PgPushOptions { BuildIndex = false });
        await using var _s = source;
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        string cache = Directory.CreateTempSubdirectory("geotoken-pg-cache-").FullName;
        try
        {
            var (folder, rows) = await PgGalleryExport.SnapshotAsync(gallery, cache, Ct);
            Assert.Equal(data.Train.Rows, rows);
            using (var copy = GeoDataset.Open(folder))
            {
                Assert.Equal(data.Train.Rows, copy.Rows);
                Assert.True(copy.HasColumn("SERIES"));
                foreach (long r in new long[] { 0, 1234, data.Train.Rows - 1 })
                {
                    Assert.Equal(data.Train.GetImageId(r), copy.GetImageId(r));
                    Assert.Equal(data.Train.GetLocation(r), copy.GetLocation(r));
                    Assert.Equal(data.Train.GetMetaRow(r)[Column(data.Train, "SERIES")], copy.GetMetaRow(r)[Column(copy, "SERIES")]);
                    // float16 in, float16 out: the same values.
                    Assert.Equal(SynthGallery.Features(data.Train, r), SynthGallery.Features(copy, r));
                }
            }

            var marker = File.GetLastWriteTimeUtc(Path.Combine(folder, PgGalleryExport.MarkerFileName));
            Assert.Equal((folder, rows), await PgGalleryExport.SnapshotAsync(gallery, cache, Ct));
            Assert.Equal(marker, File.GetLastWriteTimeUtc(Path.Combine(folder, PgGalleryExport.MarkerFileName)));

            await gallery.AddAsync([new PgGalleryRow { ImageId = "live-snap", Location = new LatLng(1, 2), Features = [SynthGallery.Features(data.Test, 0)] }], Ct);
            var (grown, more) = await PgGalleryExport.SnapshotAsync(gallery, cache, Ct);
            Assert.Equal(rows + 1, more);
            Assert.NotEqual(folder, grown);
            using var again = GeoDataset.Open(grown);
            Assert.Equal("live-snap", again.GetImageId(rows));
            Assert.Equal("", again.GetMetaRow(rows)[Column(again, "SERIES")]);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public async Task A_row_limit_keeps_results_inside_the_snapshot()
    {
        string table = NewTable("limit");
        var (source, _) = await PushAsync(table);
        await using var _s = source;
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        var feature = SynthGallery.Features(data.Test, 3);
        await gallery.AddAsync([new PgGalleryRow { ImageId = "live-limit", Location = new LatLng(5, 6), Features = [feature] }], Ct);
        using var query = FeatureMatrix.FromArray(feature, feature.Length);
        var request = new NeighborQueries { Vectors = query, K = 5 };
        Assert.Equal(data.Train.Rows, (await gallery.SearchAsync(request, Ct)).IndicesOf(0)[0]);
        gallery.SearchDefaults = new PgSearchOptions { RowLimit = data.Train.Rows };
        Assert.Equal(data.Train.Rows, gallery.GalleryRows);
        var limited = await gallery.SearchAsync(request, Ct);
        limited.CheckFrom(gallery, request);
        using var exact = ExactIndex.Create(data.Train.Image, Ct);
        Assert.Equal((await exact.SearchAsync(request, Ct)).IndicesOf(0)[0], limited.IndicesOf(0)[0]);
    }

    [Fact]
    public async Task Bad_additions_and_queries_are_named()
    {
        string table = NewTable("bad");
        await using var source = server.CreateDataSource();
        await using var gallery = await PgGallery.CreateAsync(source, table, 4, [FeatureModality.Image], Ct);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => gallery.AddAsync([new PgGalleryRow { ImageId = "a", Location = new LatLng(1, 2), Features = [new float[] { 0, 0, 0, 0 }] }], Ct));
        Assert.Contains("photo 'a'", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<ArgumentException>(() => gallery.AddAsync([new PgGalleryRow { ImageId = "b", Location = new LatLng(1, 2), Features = [new float[] { 1, 2, 3 }] }], Ct));
        Assert.Contains("dimension 4", e.Message, StringComparison.Ordinal);
        Assert.Equal([0L, 1L], await gallery.AddAsync(
        [
            new PgGalleryRow { ImageId = "c", Location = new LatLng(1, 2), Features = [new float[] { 1, 0, 0, 0 }] },
            new PgGalleryRow { ImageId = "d", Location = new LatLng(3, 4), Features = [new float[] { 0, 1, 0, 0 }] },
        ], Ct));
        using var nan = FeatureMatrix.FromArray(new float[] { 1, float.NaN, 0, 0 }, 4);
        var v = await Assert.ThrowsAsync<InvalidVectorException>(async () => await gallery.SearchAsync(new NeighborQueries { Vectors = nan, K = 1 }, Ct));
        Assert.Contains("NaN (column 1)", v.Message, StringComparison.Ordinal);
        using var ok = FeatureMatrix.FromArray(new float[] { 1, 0.1f, 0, 0 }, 4);
        var k = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await gallery.SearchAsync(new NeighborQueries { Vectors = ok, K = 3 }, Ct));
        Assert.Contains("exceeds the 2 rows", k.Message, StringComparison.Ordinal);
    }

    /// <summary>An IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, too late to cancel deterministically).</summary>
    private sealed class SyncProgress(Action<PgPushProgress> report) : IProgress<PgPushProgress>
    {
        public void Report(PgPushProgress value) => report(value);
    }
}

using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Tests.Retrieval;

public sealed class ClusterIndexTests : IDisposable
{
    private const int D = 32;
    private readonly string _dir = Directory.CreateTempSubdirectory("geotoken-retrieval").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ClusterIndexOptions SmallTree(int levels = 2, bool store = true) =>
        new() { Clusters = 24, Levels = levels, LeafSize = 16, StoreVectors = store, MiniBatchSize = 512 };

    [Fact]
    public void Searching_every_cluster_gives_exactly_the_exact_results()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(3000, D, 40, 1), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(200, D, 40, 1, sampleSeed: 2), D);
        using var index = ClusterIndex.Build(gallery, SmallTree(), cancellationToken: Ct);
        using var exact = ExactIndex.Create(gallery, Ct);
        var all = new SearchOptions { K = 10, Probes = index.NodesPerLevel };
        var a = index.Search(queries, all, Ct);
        var e = exact.Search(queries, new SearchOptions { K = 10 }, Ct);
        Assert.Equal(e.Indices.ToArray(), a.Indices.ToArray());
        Assert.Equal(e.Similarities.ToArray(), a.Similarities.ToArray());
        Assert.Equal(1.0, a.Statistics!.ScannedFraction);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void The_index_round_trips_through_its_file(int levels, bool store)
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(3000, D, 40, 3), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(300, D, 40, 3, sampleSeed: 4), D);
        string path = Path.Combine(_dir, "gallery.gtidx");
        using var built = ClusterIndex.Build(gallery, SmallTree(levels, store), cancellationToken: Ct);
        built.Save(path, cancellationToken: Ct);
        Assert.Equal([path], Directory.GetFiles(_dir));
        using var opened = ClusterIndex.Open(path, gallery);
        Assert.Equal(store, opened.StoresVectors);
        Assert.Equal(levels, opened.Levels);
        Assert.Equal(built.NodesPerLevel, opened.NodesPerLevel);
        Assert.Equal(built.DefaultProbes, opened.DefaultProbes);
        Assert.Equal(built.DefaultLeafMargin, opened.DefaultLeafMargin);
        Assert.Equal(3000, opened.LeafSizes().Sum());
        Assert.Contains("\"clusters\": 24", opened.BuildInfo);
        var options = new SearchOptions { K = 12 };
        var a = built.Search(queries, options, Ct);
        var b = opened.Search(queries, options, Ct);
        Assert.Equal(a.Indices.ToArray(), b.Indices.ToArray());
        Assert.Equal(a.Similarities.ToArray(), b.Similarities.ToArray());
        Assert.Equal(a.Statistics!.VectorsCompared, b.Statistics!.VectorsCompared);
        Assert.True(b.Statistics.ScannedFraction < 0.5);
    }

    [Fact]
    public void A_float16_gallery_stores_float16_vectors_and_agrees_with_its_float32_conversion()
    {
        var h = RetrievalTestData.ToHalf(RetrievalTestData.Clustered(2000, D, 30, 5));
        using var g16 = FeatureMatrix.FromArray(h, D);
        using var g32 = FeatureMatrix.FromArray(RetrievalTestData.FromHalf(h), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(100, D, 30, 5, sampleSeed: 6), D);
        string p16 = Path.Combine(_dir, "h.gtidx"), p32 = Path.Combine(_dir, "f.gtidx");
        ClusterIndex.BuildFile(g16, p16, SmallTree(), cancellationToken: Ct);
        var report = ClusterIndex.BuildFile(g32, p32, SmallTree(), cancellationToken: Ct);
        Assert.True(new FileInfo(p16).Length < report.FileBytes);
        using var i16 = ClusterIndex.Open(p16, g16);
        using var i32 = ClusterIndex.Open(p32, g32);
        var a = i16.Search(queries, new SearchOptions { K = 10 }, Ct);
        var b = i32.Search(queries, new SearchOptions { K = 10 }, Ct);
        Assert.Equal(b.Indices.ToArray(), a.Indices.ToArray());
        Assert.Equal(b.Similarities.ToArray(), a.Similarities.ToArray());
    }

    [Fact]
    public void An_index_used_with_another_gallery_fails_with_the_fingerprints()
    {
        var data = RetrievalTestData.Clustered(2000, D, 30, 7);
        using var gallery = FeatureMatrix.FromArray(data, D);
        string path = Path.Combine(_dir, "g.gtidx");
        ClusterIndex.BuildFile(gallery, path, SmallTree(), cancellationToken: Ct);

        var changed = data.ToArray();
        changed[0] = -changed[0]; // row 0 is always sampled
        var e = Assert.Throws<GalleryMismatchException>(() => ClusterIndex.Open(path, FeatureMatrix.FromArray(changed, D)));
        Assert.Contains("same shape but different content", e.Message);
        Assert.Contains(path, e.Message);

        e = Assert.Throws<GalleryMismatchException>(() => ClusterIndex.Open(path, FeatureMatrix.FromArray(data.AsSpan(0, 1500 * D).ToArray(), D)));
        Assert.Contains("built for a 2000 × 32 gallery, this one is 1500 × 32", e.Message);

        e = Assert.Throws<GalleryMismatchException>(() => ClusterIndex.Open(path, FeatureMatrix.FromArray(RetrievalTestData.ToHalf(data), D)));
        Assert.Contains("Float32 gallery, this one stores Float16", e.Message);
        Assert.Equal(2000, e.Expected.Rows);
    }

    [Fact]
    public void Damaged_or_foreign_files_are_rejected()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(1000, D, 20, 8), D);
        string path = Path.Combine(_dir, "g.gtidx");
        ClusterIndex.BuildFile(gallery, path, SmallTree(store: false), cancellationToken: Ct);
        byte[] good = File.ReadAllBytes(path);

        string bad = Path.Combine(_dir, "bad.gtidx");
        var flipped = good.ToArray();
        flipped[^100] ^= 0x40; // inside the inverse norms / ids, before the build info
        int info = System.Text.Encoding.UTF8.GetByteCount(ClusterIndex.Open(path, gallery).BuildInfo);
        flipped = good.ToArray();
        flipped[good.Length - info - 70] ^= 0x40;
        File.WriteAllBytes(bad, flipped);
        Assert.Contains("checksum", Assert.Throws<IndexFormatException>(() => ClusterIndex.Open(bad, gallery)).Message);

        File.WriteAllBytes(bad, good.AsSpan(0, good.Length - 10).ToArray());
        Assert.Contains("truncated", Assert.Throws<IndexFormatException>(() => ClusterIndex.Open(bad, gallery)).Message);

        var version = good.ToArray();
        version[8] = 9;
        File.WriteAllBytes(bad, version);
        Assert.Contains("version 9 is not supported", Assert.Throws<IndexFormatException>(() => ClusterIndex.Open(bad, gallery)).Message);

        // A header field that sizes a section: bounded before anything is read or allocated from it.
        var huge = good.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(huge.AsSpan(120), 1L << 40);
        File.WriteAllBytes(bad, huge);
        Assert.Contains("bytes of build information", Assert.Throws<IndexFormatException>(() => ClusterIndex.Open(bad, gallery)).Message);

        File.WriteAllText(bad, "\x93NUMPY this is an npy file, not an index, and long enough to hold a header of 256 bytes ........................................................................................................................................................................");
        Assert.Contains("not a GeoToken cluster index", Assert.Throws<IndexFormatException>(() => ClusterIndex.Open(bad, gallery)).Message);
    }

    [Fact]
    public void Beam_descent_recalls_more_than_greedy_descent_on_clustered_data()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(4000, D, 60, 9, 0.5f, 1.2f), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(300, D, 60, 9, 0.5f, 1.2f, sampleSeed: 10), D);
        using var index = ClusterIndex.Build(gallery, SmallTree(), cancellationToken: Ct);
        using var exact = ExactIndex.Create(gallery, Ct);
        var truth = exact.Search(queries, new SearchOptions { K = 10 }, Ct);
        int leavesPerTop = (int)Math.Ceiling(index.NodesPerLevel[1] / (double)index.NodesPerLevel[0]);
        var greedy = index.Search(queries, new SearchOptions { K = 10, Probes = [1, 1] }, Ct);
        var beam = index.Search(queries, new SearchOptions { K = 10, Probes = [12, 6 * leavesPerTop] }, Ct);
        double rg = Recall(truth, greedy, 10), rb = Recall(truth, beam, 10);
        Assert.True(rb > rg + 0.2, $"beam {rb:F3} vs greedy {rg:F3}");
        Assert.True(rb >= 0.9, $"beam recall {rb:F3} (greedy {rg:F3}), scanned {beam.Statistics!.ScannedFraction:F3}, nodes {string.Join(",", index.NodesPerLevel)}");
        Assert.True(greedy.Statistics!.FallbackQueries >= 0);
        Assert.True(beam.Statistics!.ScannedFraction < 0.5);
    }

    [Fact]
    public void Exclude_self_and_short_beams_fall_back_to_exact_answers()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(1500, D, 20, 11), D);
        using var index = ClusterIndex.Build(gallery, SmallTree(), cancellationToken: Ct);
        using var exact = ExactIndex.Create(gallery, Ct);
        var options = new SearchOptions { K = 5, ExcludeSelf = true, Probes = index.NodesPerLevel };
        var a = index.Search(gallery, options, Ct);
        var e = exact.Search(gallery, options, Ct);
        Assert.Equal(e.Indices.ToArray(), a.Indices.ToArray());
        for (int i = 0; i < 1500; i++) Assert.DoesNotContain(i, a.IndicesOf(i).ToArray());

        // K larger than any single leaf with a greedy beam: every query falls back to exact search.
        long biggestLeaf = index.LeafSizes().Max();
        var many = new SearchOptions { K = (int)biggestLeaf + 1, Probes = [1, 1] };
        var f = index.Search(gallery, many, Ct);
        Assert.Equal(1500, f.Statistics!.FallbackQueries);
        Assert.Equal(exact.Search(gallery, many, Ct).Indices.ToArray(), f.Indices.ToArray());
    }

    [Fact]
    public void Bad_options_and_galleries_get_clear_errors()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(500, D, 10, 12), D);
        Assert.Contains("Clusters = 800 exceeds the gallery's 500 rows", Assert.Throws<ArgumentOutOfRangeException>(() => ClusterIndex.Build(gallery, cancellationToken: Ct)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ClusterIndex.Build(FeatureMatrix.FromArray(Array.Empty<float>(), D), cancellationToken: Ct)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClusterIndex.Build(gallery, SmallTree() with { Levels = 0 }, cancellationToken: Ct));

        using var index = ClusterIndex.Build(gallery, SmallTree(), cancellationToken: Ct);
        var e = Assert.Throws<ArgumentException>(() => index.Search(gallery, new SearchOptions { Probes = [3] }, Ct));
        Assert.Contains("Probes has 1 entries but the index has 2 levels", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(gallery, new SearchOptions { Probes = [1000, 2] }, Ct));
        Assert.Contains("Probes[0] = 1000 is outside 1..24", r.Message);
        var m = Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(gallery, new SearchOptions { LeafMargin = -0.1 }, Ct));
        Assert.Contains("LeafMargin must be zero or positive", m.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClusterIndex.Build(gallery, SmallTree() with { DefaultLeafMargin = double.NaN }, cancellationToken: Ct));
        var dim = Assert.Throws<ArgumentException>(() => index.Search(FeatureMatrix.FromArray(new float[16], 16), new SearchOptions(), Ct));
        Assert.Contains("The queries (an in-memory 1 × 16 matrix) have dimension 16 but the gallery (an in-memory", dim.Message);
        Assert.Contains("has dimension 32", dim.Message);

        var zero = RetrievalTestData.Clustered(500, D, 10, 12);
        zero.AsSpan(250 * D, D).Clear();
        var z = Assert.Throws<InvalidVectorException>(() => ClusterIndex.Build(FeatureMatrix.FromArray(zero, D), SmallTree(), cancellationToken: Ct));
        Assert.Equal(250, z.Row);
    }

    [Fact]
    public void Build_reports_progress_and_honours_cancellation()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(2000, D, 20, 13), D);
        var stages = new List<IndexBuildStage>();
        string path = Path.Combine(_dir, "p.gtidx");
        ClusterIndex.BuildFile(gallery, path, SmallTree(), new ExactIndexTests.SyncProgress<IndexBuildProgress>(p => stages.Add(p.Stage)), Ct);
        foreach (var s in Enum.GetValues<IndexBuildStage>()) Assert.Contains(s, stages);

        using var cts = new CancellationTokenSource();
        var cancelOnTraining = new ExactIndexTests.SyncProgress<IndexBuildProgress>(p =>
        {
            if (p.Stage == IndexBuildStage.Training) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => ClusterIndex.Build(gallery, SmallTree(), cancelOnTraining, cts.Token));
    }

    [Fact]
    public void Default_beams_are_calibrated_to_the_target_recall_on_gallery_rows()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(5000, D, 60, 14, 0.5f, 1.2f), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(400, D, 60, 14, 0.5f, 1.2f, sampleSeed: 15), D);
        using var calibrated = ClusterIndex.Build(gallery, SmallTree() with { CalibrationRecall = 0.9, CalibrationQueries = 300 }, cancellationToken: Ct);
        using var heuristic = ClusterIndex.Build(gallery, SmallTree() with { CalibrationRecall = null }, cancellationToken: Ct);
        using var exact = ExactIndex.Create(gallery, Ct);
        var truth = exact.Search(queries, new SearchOptions { K = 10 }, Ct);
        var found = calibrated.Search(queries, new SearchOptions { K = 10 }, Ct);
        double recall = Recall(truth, found, 10);
        Assert.True(recall >= 0.85, $"recall {recall} probes {string.Join(",", calibrated.DefaultProbes)} nodes {string.Join(",", calibrated.NodesPerLevel)} info {calibrated.BuildInfo}");
        Assert.Contains("\"calibratedRecall\"", calibrated.BuildInfo);
        Assert.DoesNotContain("calibratedRecall", heuristic.BuildInfo);
        Assert.Equal(ClusterIndex.ProbesFor(calibrated.DefaultProbes[^1], [.. calibrated.NodesPerLevel]), calibrated.DefaultProbes);
        Assert.Equal(ClusterIndex.HeuristicProbes([.. heuristic.NodesPerLevel]), heuristic.DefaultProbes);
    }

    [Fact]
    public void A_leaf_margin_scans_part_of_the_beam_and_recall_and_cost_grow_with_it()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(5000, D, 60, 14, 0.5f, 1.2f), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(400, D, 60, 14, 0.5f, 1.2f, sampleSeed: 16), D);
        using var index = ClusterIndex.Build(gallery, SmallTree() with { CalibrationRecall = null }, cancellationToken: Ct);
        Assert.Null(index.DefaultLeafMargin);
        using var exact = ExactIndex.Create(gallery, Ct);
        var truth = exact.Search(queries, new SearchOptions { K = 10 }, Ct);
        var probes = index.ProbesForLeafBeam(index.NodesPerLevel[^1] / 3);
        var whole = index.Search(queries, new SearchOptions { K = 10, Probes = probes }, Ct);

        // A margin of 2 (cosine differences never exceed it) keeps the whole beam.
        var two = index.Search(queries, new SearchOptions { K = 10, Probes = probes, LeafMargin = 2 }, Ct);
        Assert.Equal(whole.Indices.ToArray(), two.Indices.ToArray());
        Assert.Equal(whole.Statistics!.VectorsCompared, two.Statistics!.VectorsCompared);

        double previousRecall = 0, previousScanned = 0;
        foreach (double margin in new[] { 0.0, 0.05, 0.1, 0.2, 0.4, 2.0 })
        {
            var found = index.Search(queries, new SearchOptions { K = 10, Probes = probes, LeafMargin = margin }, Ct);
            double recall = Recall(truth, found, 10), scanned = found.Statistics!.ScannedFraction;
            Assert.True(recall >= previousRecall && scanned >= previousScanned, $"margin {margin}: recall {recall} (before {previousRecall}), scanned {scanned} (before {previousScanned})");
            if (margin == 0) Assert.True(scanned < 0.5 * whole.Statistics.ScannedFraction, $"margin 0 scanned {scanned} of the beam's {whole.Statistics.ScannedFraction}");
            (previousRecall, previousScanned) = (recall, scanned);
        }
    }

    [Fact]
    public void The_default_leaf_margin_goes_with_the_default_beam_and_round_trips()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(3000, D, 40, 17), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(200, D, 40, 17, sampleSeed: 18), D);
        using var index = ClusterIndex.Build(gallery, SmallTree() with { DefaultProbes = [12, 60], DefaultLeafMargin = 0.05 }, cancellationToken: Ct);
        Assert.Equal(0.05, index.DefaultLeafMargin);
        Assert.Contains("\"defaultLeafMargin\": 0.05", index.BuildInfo);
        var byDefault = index.Search(queries, new SearchOptions { K = 10 }, Ct);
        var explicitMargin = index.Search(queries, new SearchOptions { K = 10, Probes = [12, 60], LeafMargin = 0.05 }, Ct);
        var explicitBeam = index.Search(queries, new SearchOptions { K = 10, Probes = [12, 60] }, Ct);
        Assert.Equal(explicitMargin.Indices.ToArray(), byDefault.Indices.ToArray());
        Assert.Equal(explicitMargin.Statistics!.VectorsCompared, byDefault.Statistics!.VectorsCompared);
        Assert.True(explicitBeam.Statistics!.VectorsCompared > byDefault.Statistics.VectorsCompared, "an explicit beam without a margin scans its whole beam");

        string path = Path.Combine(_dir, "margin.gtidx");
        index.Save(path, cancellationToken: Ct);
        using var opened = ClusterIndex.Open(path, gallery);
        Assert.Equal(0.05, opened.DefaultLeafMargin);
        Assert.Equal(byDefault.Indices.ToArray(), opened.Search(queries, new SearchOptions { K = 10 }, Ct).Indices.ToArray());
    }

    internal static double Recall(NeighborResults truth, NeighborResults found, int k)
    {
        long hits = 0;
        for (long q = 0; q < truth.QueryCount; q++)
        {
            var t = truth.IndicesOf(q)[..k].ToArray().ToHashSet();
            foreach (long id in found.IndicesOf(q)[..k]) hits += t.Contains(id) ? 1 : 0;
        }

        return hits / (double)(truth.QueryCount * k);
    }
}

using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Retrieval;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Retrieval;

public sealed class NeighborFilesTests
{
    private const int D = 16;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Neighbor_files_hold_int64_indices_and_float32_similarities_that_NumPy_reads()
    {
        using var dir = new TempDir();
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(500, D, 10, 1), D);
        using var index = ExactIndex.Create(gallery, Ct);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(70, D, 10, 1, sampleSeed: 2), D);
        var expected = index.Search(queries, new SearchOptions { K = 7 }, Ct);
        string prefix = dir.File("train");
        using (var sink = new NeighborFileWriter(prefix))
        {
            index.Search(queries, new SearchOptions { K = 7, QueryBatchSize = 32 }, sink, cancellationToken: Ct);
        }

        using (var file = NeighborFile.Open(prefix))
        {
            Assert.Equal(70, file.QueryCount);
            Assert.Equal(7, file.K);
            Assert.Equal(expected.Indices.ToArray(), file.Indices.GetRows(0, 70).ToArray());
            Assert.Equal(expected.Similarities.ToArray(), file.Similarities.GetRows(0, 70).ToArray());
        }

        string numpy = NumPyPeer.Run(
            "i = np.load('train_I.npy'); d = np.load('train_D.npy')\n" +
            "print(i.dtype, i.shape, d.dtype, d.shape, int(i[3, 0]), repr(float(d[3, 0])), bool((np.diff(d, axis=1) <= 0).all()))",
            dir.Path);
        string similarity = ((double)expected.Similarities[21]).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"int64 (70, 7) float32 (70, 7) {expected.Indices[21]} {similarity} True", numpy.Trim());
    }

    [Fact]
    public void A_cancelled_search_leaves_previous_neighbor_files_untouched()
    {
        using var dir = new TempDir();
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Random(300, D, 3), D);
        using var index = ExactIndex.Create(gallery, Ct);
        string prefix = dir.File("n");
        using (var sink = new NeighborFileWriter(prefix))
        {
            index.Search(gallery, new SearchOptions { K = 3 }, sink, cancellationToken: Ct);
        }

        byte[] before = File.ReadAllBytes(prefix + "_I.npy");
        using var cts = new CancellationTokenSource();
        using (var sink = new NeighborFileWriter(prefix))
        {
            var progress = new ExactIndexTests.SyncProgress<SearchProgress>(_ => cts.Cancel());
            Assert.ThrowsAny<OperationCanceledException>(() => index.Search(gallery, new SearchOptions { K = 5, QueryBatchSize = 100 }, sink, progress, cts.Token));
        }

        Assert.Equal(before, File.ReadAllBytes(prefix + "_I.npy"));
        Assert.Equal(["n.json", "n_D.npy", "n_I.npy"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Retrieve_and_BuildIndex_work_on_dataset_folders()
    {
        using var dir = new TempDir();
        string galleryFolder = dir.File("gallery"), queryFolder = dir.File("queries");
        var galleryData = RetrievalTestData.Clustered(1200, D, 12, 4);
        RetrievalTestData.WriteDataset(galleryFolder, galleryData, D);
        RetrievalTestData.WriteDataset(queryFolder, RetrievalTestData.Clustered(90, D, 12, 4, sampleSeed: 5), D);

        // Test neighbors, exact.
        var stats = NeighborSearch.Retrieve(galleryFolder, queryFolder, dir.File("test"), new SearchOptions { K = 15 }, cancellationToken: Ct);
        Assert.Equal(90, stats.Queries);
        Assert.Equal(1.0, stats.ScannedFraction);

        // Training neighbors through a cluster index, the gallery searched against itself.
        string indexPath = dir.File("gallery.gtidx");
        var report = NeighborSearch.BuildIndex(galleryFolder, indexPath, new ClusterIndexOptions { Clusters = 20, LeafSize = 16 }, cancellationToken: Ct);
        Assert.Equal(1200, report.Rows);
        Assert.Equal(2, report.NodesPerLevel.Count);
        var train = NeighborSearch.Retrieve(galleryFolder, galleryFolder, dir.File("train"), new SearchOptions { K = 15, ExcludeSelf = true }, indexPath, cancellationToken: Ct);
        Assert.Equal("cluster", train.Method);
        Assert.True(train.ScannedFraction < 1);

        using var test = NeighborFile.Open(dir.File("test"));
        using var trainFile = NeighborFile.Open(dir.File("train"));
        Assert.Equal(90, test.QueryCount);
        Assert.Equal(1200, trainFile.QueryCount);
        for (long q = 0; q < 1200; q++) Assert.DoesNotContain(q, trainFile.Indices.GetRow(q).ToArray());

        // The files hold exactly what searching the opened index (float16 gallery, as the dataset writer stores it) returns.
        using var dataset = GeoDataset.Open(galleryFolder);
        Assert.Equal(FeatureElementType.Float16, dataset.Image.ElementType);
        using var index = ClusterIndex.Open(indexPath, dataset.Image);
        var direct = index.Search(dataset.Image, new SearchOptions { K = 15, ExcludeSelf = true }, Ct);
        Assert.Equal(direct.Indices.ToArray(), trainFile.Indices.GetRows(0, 1200).ToArray());
        Assert.Equal(direct.Similarities.ToArray(), trainFile.Similarities.GetRows(0, 1200).ToArray());
    }

    [Fact]
    public void Invalid_rows_of_a_dataset_name_the_file()
    {
        using var dir = new TempDir();
        var data = RetrievalTestData.Clustered(100, D, 5, 6);
        data.AsSpan(42 * D, D).Clear();
        RetrievalTestData.WriteDataset(dir.Path, data, D);
        using var dataset = GeoDataset.Open(dir.Path);
        var e = Assert.Throws<InvalidVectorException>(() => ExactIndex.Create(dataset.Image, Ct));
        Assert.Contains($"Gallery row 43 (index 42) of {dataset.GetFeaturePath(FeatureModality.Image)} is a zero vector", e.Message);
        Assert.Equal(42, e.Row);
        Assert.Equal(dataset.GetFeaturePath(FeatureModality.Image), e.FilePath);
    }

    /// <summary>A query set that does not fit the gallery names both files, and a bad query row names its file, row and the gallery.</summary>
    [Fact]
    public void Query_errors_name_the_query_file_the_gallery_and_the_row()
    {
        using var dir = new TempDir();
        string galleryFolder = dir.File("gallery"), queryFolder = dir.File("queries"), wide = dir.File("wide");
        RetrievalTestData.WriteDataset(galleryFolder, RetrievalTestData.Clustered(200, D, 5, 6), D);
        var queries = RetrievalTestData.Clustered(20, D, 5, 7);
        queries.AsSpan(5 * D, D).Clear();
        RetrievalTestData.WriteDataset(queryFolder, queries, D);
        using (var w = GeoDatasetWriter.Create(wide, new GeoDatasetWriterOptions { ImageDimension = 2 * D }))
        {
            w.WriteRow("w", new LatLng(1, 2), RetrievalTestData.Random(1, 2 * D, 3));
            w.Commit();
        }

        string galleryFile = Path.Combine(galleryFolder, "image.npy");
        var dim = Assert.Throws<ArgumentException>(() => NeighborSearch.Retrieve(galleryFolder, wide, dir.File("x"), new SearchOptions { K = 5 }, cancellationToken: Ct));
        Assert.Contains($"The queries ({Path.Combine(wide, "image.npy")}) have dimension {2 * D}", dim.Message);
        Assert.Contains($"the gallery ({galleryFile}) has dimension {D}", dim.Message);

        var zero = Assert.Throws<InvalidVectorException>(() => NeighborSearch.Retrieve(galleryFolder, queryFolder, dir.File("x"), new SearchOptions { K = 5 }, cancellationToken: Ct));
        Assert.Contains($"Query row 6 (index 5) of {Path.Combine(queryFolder, "image.npy")} is a zero vector", zero.Message);
        Assert.Contains($"searching the gallery {galleryFile}", zero.Message);

        // In-memory queries are described by their shape.
        using var gallery = GeoDataset.Open(galleryFolder);
        using var index = ExactIndex.Create(gallery.Image, Ct);
        using var memory = FeatureMatrix.FromArray(queries, D);
        var e = Assert.Throws<InvalidVectorException>(() => index.Search(memory, new SearchOptions { K = 5 }, Ct));
        Assert.Contains("Query row 6 (index 5) of an in-memory 20 × 16 matrix is a zero vector", e.Message);
        Assert.Contains(galleryFile, e.Message);
    }

    /// <summary>Neighbor files carry PREFIX.json: their SHA-256 and the datasets they were computed for, checked when used.</summary>
    [Fact]
    public void Neighbor_files_are_checked_against_their_sidecar()
    {
        using var dir = new TempDir();
        string galleryFolder = dir.File("gallery"), queryFolder = dir.File("queries"), otherFolder = dir.File("other");
        RetrievalTestData.WriteDataset(galleryFolder, RetrievalTestData.Clustered(300, D, 6, 4), D);
        RetrievalTestData.WriteDataset(queryFolder, RetrievalTestData.Clustered(30, D, 6, 4, sampleSeed: 5), D);
        RetrievalTestData.WriteDataset(otherFolder, RetrievalTestData.Clustered(300, D, 6, 9), D);
        string prefix = dir.File("test");
        NeighborSearch.Retrieve(galleryFolder, queryFolder, prefix, new SearchOptions { K = 5 }, cancellationToken: Ct);
        Assert.True(File.Exists(prefix + ".json"));

        using var gallery = GeoDataset.Open(galleryFolder);
        using var queries = GeoDataset.Open(queryFolder);
        using var other = GeoDataset.Open(otherFolder);
        var right = new NeighborFileProvenance(queries.ContentId, gallery.ContentId);
        using (var ok = NeighborFile.Open(prefix, right)) Assert.Equal(30, ok.QueryCount);

        var wrongGallery = Assert.Throws<InvalidDataException>(() => NeighborFile.Open(prefix, right with { GalleryId = other.ContentId }));
        Assert.Contains(gallery.ContentId, wrongGallery.Message);
        Assert.Contains(other.ContentId, wrongGallery.Message);

        var d = File.ReadAllBytes(prefix + "_D.npy");
        d[^2] ^= 0x01;
        File.WriteAllBytes(prefix + "_D.npy", d);
        var changed = Assert.Throws<InvalidDataException>(() => NeighborFile.Open(prefix, right));
        Assert.Contains(Path.GetFullPath(prefix + "_D.npy"), changed.Message);

        File.Delete(prefix + ".json");
        Assert.Contains("sidecar", Assert.Throws<InvalidDataException>(() => NeighborFile.Open(prefix, right)).Message);
    }

    /// <summary>The neighbor cache does not reuse files whose content changed: it recomputes them.</summary>
    [Fact]
    public void Neighbor_cache_recomputes_changed_files()
    {
        using var dir = new TempDir();
        string galleryFolder = dir.File("gallery"), queryFolder = dir.File("queries");
        RetrievalTestData.WriteDataset(galleryFolder, RetrievalTestData.Clustered(300, D, 6, 4), D);
        RetrievalTestData.WriteDataset(queryFolder, RetrievalTestData.Clustered(30, D, 6, 4, sampleSeed: 5), D);
        using var gallery = GeoDataset.Open(galleryFolder);
        using var queries = GeoDataset.Open(queryFolder);
        string prefix = NeighborCache.Ensure(queries, gallery, 5, cancellationToken: Ct);
        long[] good = NpyFile.ReadAll<long>(prefix + "_I.npy");

        var tampered = good.ToArray();
        (tampered[0], tampered[1]) = (tampered[1], tampered[0]); // still valid rows: only the hash can tell
        NpyFile.Write(prefix + "_I.npy", tampered, 5);
        Assert.Equal(prefix, NeighborCache.Ensure(queries, gallery, 5, cancellationToken: Ct));
        Assert.Equal(good, NpyFile.ReadAll<long>(prefix + "_I.npy"));
    }
}

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
    public void Neighbour_files_hold_int64_indices_and_float32_similarities_that_NumPy_reads()
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
    public void A_cancelled_search_leaves_previous_neighbour_files_untouched()
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
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length);
    }

    [Fact]
    public void Retrieve_and_BuildIndex_work_on_dataset_folders()
    {
        using var dir = new TempDir();
        string galleryFolder = dir.File("gallery"), queryFolder = dir.File("queries");
        var galleryData = RetrievalTestData.Clustered(1200, D, 12, 4);
        WriteDataset(galleryFolder, galleryData);
        WriteDataset(queryFolder, RetrievalTestData.Clustered(90, D, 12, 4, sampleSeed: 5));

        // Test neighbours, exact.
        var stats = NeighborSearch.Retrieve(galleryFolder, queryFolder, dir.File("test"), new SearchOptions { K = 15 }, cancellationToken: Ct);
        Assert.Equal(90, stats.Queries);
        Assert.Equal(1.0, stats.ScannedFraction);

        // Training neighbours through a cluster index, the gallery searched against itself.
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
        WriteDataset(dir.Path, data);
        using var dataset = GeoDataset.Open(dir.Path);
        var e = Assert.Throws<InvalidVectorException>(() => ExactIndex.Create(dataset.Image, Ct));
        Assert.Contains($"Gallery row 42 of {dataset.GetFeaturePath(FeatureModality.Image)} is a zero vector", e.Message);
        Assert.Equal(dataset.GetFeaturePath(FeatureModality.Image), e.FilePath);
    }

    private static void WriteDataset(string folder, float[] image)
    {
        int rows = image.Length / D;
        using var writer = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions { ImageDimension = D });
        for (int r = 0; r < rows; r++) writer.WriteRow($"img{r}", new LatLng(r % 90, r % 180), image.AsSpan(r * D, D));
        writer.Commit();
    }
}

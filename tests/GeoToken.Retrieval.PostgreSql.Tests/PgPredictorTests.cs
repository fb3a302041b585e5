using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.Reranking;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>The predictor searching the gallery through PostgreSQL answers as it does through the folder gallery's exact search.</summary>
public sealed class PgPredictorTests(PostgresServer server, SynthGallery data)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_predictor_answers_the_same_through_PostgreSQL_where_the_neighbors_are_the_same(bool rowsFromDatabase)
    {
        // rowsFromDatabase: no gallery folder; the neighbors' features (halfvec → float) and tokens come with each search.
        string table = rowsFromDatabase ? "predictor_rows" : "predictor";
        await using var source = server.CreateDataSource();
        await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table }, cancellationToken: Ct);
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        gallery.SearchDefaults = new PgSearchOptions { Exact = true };

        // A tiny untrained model: its answers depend on every neighbor's features and tokens, so equal answers mean the
        // pipeline read the same context from both searches.
        string modelPath = TinyModel(table);

        try
        {
            // Log-probability reranking reads no similarities (consensus weighs neighbors by them, and the two searches
            // round them differently in the last float32 bits), so equal neighbors must give bit-identical answers.
            GeoTokenPredictorOptions Options(INeighborSearch? search) => new()
            {
                ModelPath = modelPath,
                Runtimes = [TorchGeoTokenRuntime.Cpu],
                GalleryDirectory = data.TrainDirectory,
                NeighborSearch = search,
                Pool = new CandidatePoolOptions { Samples = 6 },
                Reranker = new LogProbReranker(),
            };
            using var folder = GeoTokenPredictor.Open(Options(null), Ct);
            using var pg = GeoTokenPredictor.Open(Options(gallery) with { GalleryDirectory = rowsFromDatabase ? null : data.TrainDirectory }, Ct);
            var queries = Enumerable.Range(0, 40).Select(r => GeoQuery.FromImageFeatures(SynthGallery.Features(data.Test, r), $"test {r}")).ToArray();
            var a = await folder.PredictAsync(queries, Ct);
            var b = await pg.PredictAsync(queries, Ct);
            int same = 0;
            for (int i = 0; i < queries.Length; i++)
            {
                var na = a[i].Neighbors.Select(n => n.Row).ToArray();
                var nb = b[i].Neighbors.Select(n => n.Row).ToArray();
                if (!na.SequenceEqual(nb))
                {
                    // Exact search in both: they may differ only where similarities tie within float32 rounding.
                    for (int j = 0; j < na.Length; j++) Assert.True(na[j] == nb[j] || Math.Abs(a[i].Neighbors[j].Similarity - b[i].Neighbors[j].Similarity) <= 2e-5, $"{queries[i].Id}: neighbor {j}");
                    continue;
                }

                same++;
                Assert.Equal(a[i].Locations.Count, b[i].Locations.Count);
                for (int r = 0; r < a[i].Locations.Count; r++)
                {
                    Assert.Equal(a[i].Locations[r].Position, b[i].Locations[r].Position);
                    Assert.Equal(a[i].Locations[r].CellToken, b[i].Locations[r].CellToken);
                    Assert.Equal(a[i].Locations[r].LogProbability, b[i].Locations[r].LogProbability);
                }

                Assert.Equal(a[i].UncertaintyKm, b[i].UncertaintyKm);
                Assert.Equal(a[i].Neighbors.Select(n => n.Position), b[i].Neighbors.Select(n => n.Position));
            }

            Assert.True(same >= 30, $"only {same} of {queries.Length} queries had identical neighbors");
        }
        finally
        {
            File.Delete(modelPath);
        }
    }
    /// <summary>A tiny untrained model (1 view of 64, k = 5) saved to a temporary file (the caller deletes it).</summary>
    internal static string TinyModel(string name)
    {
        random.manual_seed(11);
        string modelPath = Path.Combine(Path.GetTempPath(), $"geotoken-pg-model-{name}-{Environment.ProcessId}.gtm");
        using var model = new GeoTokenModel(new GeoTokenModelOptions
        {
            ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0,
            ModalityCount = 1, FeatureDimension = 64, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 },
        });
        GeoTokenModelFile.Save(model, modelPath);
        return modelPath;
    }

    [Fact]
    public async Task A_photo_added_while_the_predictor_is_open_is_the_next_querys_neighbor_with_its_features_and_tokens()
    {
        string table = "predictor_live";
        await using var source = server.CreateDataSource();
        await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table }, cancellationToken: Ct);
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        gallery.SearchDefaults = new PgSearchOptions { Exact = true };
        string modelPath = TinyModel(table);
        string cache = Directory.CreateTempSubdirectory("geotoken-pg-live-").FullName;
        try
        {
            var options = new GeoTokenPredictorOptions { ModelPath = modelPath, Runtimes = [TorchGeoTokenRuntime.Cpu], NeighborSearch = gallery, Pool = new CandidatePoolOptions { Samples = 6 }, Reranker = new LogProbReranker() };
            using var live = GeoTokenPredictor.Open(options, Ct);
            long before = live.GalleryRows;
            Assert.Equal(data.Train.Rows, before);

            // A new photo whose features are a test query's own (the gallery's nearest row to that query is then the photo
            // itself, similarity 1), placed far from every gallery row's answer: Antarctica.
            var features = SynthGallery.Features(data.Test, 3);
            var place = new LatLng(-77.846, 166.676);
            var added = await gallery.AddAsync([new PgGalleryRow { ImageId = "live-upload-1", Location = place, Features = [features] }], Ct);
            Assert.Equal(before, added[0]);

            var query = GeoQuery.FromImageFeatures(features, "test 3");
            var p = await live.PredictAsync(query, Ct);
            Assert.Equal(before + 1, live.GalleryRows);
            Assert.Equal(before, p.Neighbors[0].Row);
            Assert.Equal(place, p.Neighbors[0].Position); // stored as double precision: exact
            Assert.True(Math.Abs(p.Neighbors[0].Similarity - 1) <= 1e-3, $"similarity {p.Neighbors[0].Similarity}"); // float16 rounding of both vectors

            // The pipeline read the added row's features and tokens: a predictor over a folder copy of the table taken
            // after the addition (float16 features, as the table stores them) answers bit-identically.
            var (folder, rows) = await PgGalleryExport.SnapshotAsync(gallery, cache, Ct);
            Assert.Equal(before + 1, rows);
            await using var snapshotSearch = await PgGallery.OpenAsync(source, table, Ct);
            snapshotSearch.SearchDefaults = new PgSearchOptions { Exact = true, RowLimit = rows };
            using var snapshot = GeoTokenPredictor.Open(options with { GalleryDirectory = folder, NeighborSearch = snapshotSearch }, Ct);
            var q = await snapshot.PredictAsync(query, Ct);
            Assert.Equal(p.Neighbors.Select(n => n.Row), q.Neighbors.Select(n => n.Row));
            Assert.Equal(p.Neighbors.Select(n => n.Position), q.Neighbors.Select(n => n.Position));
            Assert.Equal(p.Locations.Select(l => (l.Position, l.LogProbability)), q.Locations.Select(l => (l.Position, l.LogProbability)));
        }
        finally
        {
            File.Delete(modelPath);
            Directory.Delete(cache, recursive: true);
        }
    }
}

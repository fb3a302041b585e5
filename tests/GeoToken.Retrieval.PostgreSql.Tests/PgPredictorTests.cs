using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Model.Prediction;
using GeoToken.Reranking;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>The predictor searching the gallery through PostgreSQL answers as it does through the folder gallery's exact search.</summary>
public sealed class PgPredictorTests(PostgresServer server, SynthGallery data)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_predictor_answers_the_same_through_PostgreSQL_where_the_neighbors_are_the_same()
    {
        string table = "predictor";
        await using var source = server.CreateDataSource();
        await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table }, cancellationToken: Ct);
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        gallery.SearchDefaults = new PgSearchOptions { Exact = true };

        // A tiny untrained model: its answers depend on every neighbor's features and tokens, so equal answers mean the
        // pipeline read the same context from both searches.
        random.manual_seed(11);
        string modelPath = Path.Combine(Path.GetTempPath(), $"geotoken-pg-model-{Environment.ProcessId}.gtm");
        using (var model = new GeoTokenModel(new GeoTokenModelOptions
        {
            ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0,
            ModalityCount = 1, FeatureDimension = 64, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 },
        }))
        {
            GeoTokenModelFile.Save(model, modelPath);
        }

        try
        {
            // Log-probability reranking reads no similarities (consensus weighs neighbors by them, and the two searches
            // round them differently in the last float32 bits), so equal neighbors must give bit-identical answers.
            GeoTokenPredictorOptions Options(INeighborSearch? search) => new()
            {
                ModelPath = modelPath,
                GalleryDirectory = data.TrainDirectory,
                NeighborSearch = search,
                Pool = new CandidatePoolOptions { Samples = 6 },
                Reranker = new LogProbReranker(),
            };
            using var folder = GeoTokenPredictor.Open(Options(null), Ct);
            using var pg = GeoTokenPredictor.Open(Options(gallery), Ct);
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
}

using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Evaluation;
using GeoToken.Model.Tests.Reranking;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Prediction;

/// <summary>
/// The one pipeline behind the predictor and the evaluation: a search of another kind plugged in through the retrieval
/// contract, results that break the contract, and the encoder running once per batch (reward head included).
/// </summary>
public sealed class GeoTokenPipelineTests(SynthGeoFixture data) : IClassFixture<SynthGeoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly GeoTokenModelOptions Options = TestData.Micro() with { ModalityCount = 1, FeatureDimension = 64, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 } };

    private string Gallery => Path.GetDirectoryName(data.Train.MetaPath)!;

    private static string SaveModel()
    {
        random.manual_seed(3);
        using var model = new GeoTokenModel(Options);
        string path = TestData.TempPath("p.gtm");
        GeoTokenModelFile.Save(model, path);
        return path;
    }

    private static string SaveRewardHead()
    {
        random.manual_seed(4);
        using var head = new RewardHead(Options.ModelDimension);
        string path = TestData.TempPath("r.gtr");
        RewardHeadFile.Save(head, path);
        return path;
    }

    private GeoQuery Query(long row) => GeoQuery.FromImageFeatures(SynthGeoFixture.Features(data.Test, row), $"test {row}");

    [Fact]
    public async Task A_search_of_another_kind_plugs_into_the_predictor_through_the_contract()
    {
        string model = SaveModel();
        var options = new GeoTokenPredictorOptions { ModelPath = model, Runtimes = [TorchGeoTokenRuntime.Cpu], GalleryDirectory = Gallery, Pool = new CandidatePoolOptions { Samples = 6 } };
        var custom = new BruteForceSearch(data.Train.Image);
        using var builtIn = GeoTokenPredictor.Open(options, Ct);
        using var plugged = GeoTokenPredictor.Open(options with { NeighborSearch = custom, BatchSize = 4 }, Ct);
        var queries = Enumerable.Range(0, 10).Select(r => Query(r)).ToArray();
        var expected = await builtIn.PredictAsync(queries, Ct);
        var reports = new List<PredictionProgress>();
        var actual = await plugged.PredictAsync(queries, new SyncProgress<PredictionProgress>(reports.Add), Ct);
        Assert.Equal(3, custom.Calls); // batches of 4, 4 and 2
        Assert.Equal([new(4, 10), new(8, 10), new(10, 10)], reports);

        int same = 0;
        for (int i = 0; i < queries.Length; i++)
        {
            var a = expected[i].Neighbors;
            var b = actual[i].Neighbors;
            Assert.Equal(a.Count, b.Count);
            bool identical = true;
            for (int j = 0; j < a.Count; j++)
            {
                // Float32 AVX2 dot products against float64 ones: rows may differ only where similarities tie within 1e-5.
                Assert.Equal(a[j].Similarity, b[j].Similarity, 1e-5);
                identical &= a[j].Row == b[j].Row;
            }

            if (!identical) continue;
            same++;
            // The same neighbors make the same batch row: the same answer (batches of other sizes round differently, so
            // compare positions and counts; log-probabilities within float rounding).
            Assert.Equal(expected[i].Locations.Select(l => l.Position), actual[i].Locations.Select(l => l.Position));
            Assert.Equal(expected[i].Best.LogProbability, actual[i].Best.LogProbability, 1e-3);
        }

        Assert.True(same >= 8, $"only {same} of 10 queries had the same neighbors");
    }

    [Fact]
    public async Task Results_that_break_the_contract_are_refused_naming_the_search_and_the_query()
    {
        var broken = new BruteForceSearch(data.Train.Image) { Corrupt = true };
        using var predictor = GeoTokenPredictor.Open(new GeoTokenPredictorOptions { ModelPath = SaveModel(), Runtimes = [TorchGeoTokenRuntime.Cpu], GalleryDirectory = Gallery, NeighborSearch = broken }, Ct);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => predictor.PredictAsync([Query(0), Query(1)], Ct));
        Assert.Contains("The brute force search returned, for query row 2 (index 1), neighbor 1 = gallery row index 4000", e.Message);

        var tooSmall = new GeoTokenPredictorOptions { ModelPath = SaveModel(), Runtimes = [TorchGeoTokenRuntime.Cpu], GalleryDirectory = Gallery, NeighborSearch = new BruteForceSearch(FeatureMatrix.FromArray(new float[10 * 64], 64)) };
        Assert.Contains("covers 10 gallery rows of dimension 64, but the gallery", Assert.Throws<ArgumentException>(() => GeoTokenPredictor.Open(tooSmall, Ct)).Message);
        Assert.Contains("NeighborSearch and IndexPath are both set", Assert.Throws<ArgumentException>(() => GeoTokenPredictor.Open(tooSmall with { IndexPath = "x.gtci" }, Ct)).Message);
    }

    [Fact]
    public async Task The_encoder_runs_once_per_batch_in_the_predictor_with_a_reward_head()
    {
        using var reward = RewardScorer.Open(SaveRewardHead());
        using var predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions
        {
            ModelPath = SaveModel(),
            Runtimes = [TorchGeoTokenRuntime.Cpu],
            GalleryDirectory = Gallery,
            Scorers = [reward],
            Reranker = new RerankerBuilder(new RewardReranker()).UseFallback(new ConsensusReranker()).Build(),
            Pool = new CandidatePoolOptions { Samples = 5 },
            BatchSize = 2,
        }, Ct);
        long before = predictor.EncoderRuns;
        var predictions = await predictor.PredictAsync(Enumerable.Range(0, 5).Select(r => Query(r)).ToArray(), Ct);
        Assert.Equal(before + 3, predictor.EncoderRuns); // batches of 2, 2 and 1: pool and reward scores from one pass each
        Assert.All(predictions, p =>
        {
            Assert.Equal("reward", p.DecidedBy); // the scores reached the reranker
            Assert.Empty(p.FallbackReasons);
            Assert.All(p.Locations, l => Assert.InRange(l.Score, 0, 1));
        });
    }

    [Fact]
    public async Task The_encoder_runs_once_per_batch_in_the_evaluation()
    {
        using var reward = RewardScorer.Open(SaveRewardHead());
        var result = await EvaluationRun.RunAsync(new EvaluationRunOptions
        {
            ModelPath = SaveModel(),
            Runtimes = [TorchGeoTokenRuntime.Cpu],
            GalleryDirectory = Gallery,
            QueryDirectory = Path.GetDirectoryName(data.Test.MetaPath)!,
            MaxQueries = 10,
            BatchSize = 4,
            Pool = new CandidatePoolOptions { Samples = 4 },
            Scorers = [reward],
            Neighbors = new NeighborCacheOptions { Directory = Path.GetDirectoryName(TestData.TempPath("nb"))! },
        }, cancellationToken: Ct);

        // Greedy, two beam searches, the pool and the reward scores of each batch of 4, 4 and 2 all read one encoder pass.
        Assert.Equal(3, result.EncoderRuns);
        Assert.Equal(["knn", "greedy", "beam", "beam-paper", "logprob", "consensus", "mbr", "reward", "oracle"], result.Strategies.Select(s => s.Name));
        Assert.Empty(result.FallbackReasons); // the reward reranker found its scores for every query
        Assert.All(result.Strategies, s => Assert.Equal(10, s.DistancesKm.Count));
    }

    /// <summary>Brute-force cosine search in float64 behind the contract (as an engine in another package would be).</summary>
    private sealed class BruteForceSearch(FeatureMatrix gallery) : INeighborSearch
    {
        private int _calls;

        public int Calls => _calls;

        public bool Corrupt { get; init; }

        public string Method => "brute force";

        public long GalleryRows => gallery.Rows;

        public int Dimension => gallery.Columns;

        public string? GalleryId => null;

        public ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            int n = queries.QueryCount, k = queries.K, d = gallery.Columns;
            var g = new float[d];
            var q = new float[d];
            var ids = new long[n * k];
            var sims = new float[n * k];
            for (int i = 0; i < n; i++)
            {
                queries.Vectors.ReadRow(queries.Start + i, q);
                var scored = new (double Sim, long Row)[gallery.Rows];
                for (long r = 0; r < gallery.Rows; r++)
                {
                    gallery.ReadRow(r, g);
                    double dot = 0, gg = 0, qq = 0;
                    for (int c = 0; c < d; c++)
                    {
                        dot += (double)q[c] * g[c];
                        gg += (double)g[c] * g[c];
                        qq += (double)q[c] * q[c];
                    }

                    scored[r] = (gg == 0 ? double.NegativeInfinity : dot / Math.Sqrt(gg * qq), r);
                }

                var best = scored.Where(s => !queries.ExcludeSelf || s.Row != queries.Start + i).OrderByDescending(s => s.Sim).ThenBy(s => s.Row).Take(k).ToArray();
                for (int j = 0; j < k; j++)
                {
                    ids[i * k + j] = Corrupt && i == 1 && j == 0 ? gallery.Rows : best[j].Row;
                    sims[i * k + j] = (float)best[j].Sim;
                }
            }

            return ValueTask.FromResult(NeighborResults.FromArrays(k, ids, sims));
        }
    }
}

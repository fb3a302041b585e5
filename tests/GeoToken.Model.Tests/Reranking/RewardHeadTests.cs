using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model.Training;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Reranking;

/// <summary>The reward head: per-image decoding, labels, training, files and the reward reranker.</summary>
public sealed class RewardHeadTests(SynthGeoFixture data) : IClassFixture<SynthGeoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static readonly GeoTokenModelOptions Options = TestData.Micro() with { ModalityCount = 1, FeatureDimension = 64, NeighborCount = 5, Dropout = 0, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 } };

    private static readonly CandidatePoolOptions Pool = new() { Samples = 6, Temperature = 1.5 };

    private (GeoTokenModel Model, DatasetBatchSource Source, NeighborFile Neighbors) Setup() => Setup(data);

    /// <summary>A seeded micro model in evaluation mode over the fixture's training rows with their neighbors.</summary>
    internal static (GeoTokenModel Model, DatasetBatchSource Source, NeighborFile Neighbors) Setup(SynthGeoFixture data)
    {
        random.manual_seed(5);
        var model = new GeoTokenModel(Options);
        model.eval();
        string prefix = NeighborCache.Ensure(data.Train, data.Train, Options.NeighborCount, new NeighborCacheOptions { Directory = Path.GetDirectoryName(TestData.TempPath("nb"))! }, null, Ct);
        var neighbors = NeighborFile.Open(prefix);
        var tokens = TokenTable.Build(data.Train, model.Tokenizer, Ct);
        return (model, new DatasetBatchSource(data.Train, data.Train, neighbors, tokens, tokens, Options), neighbors);
    }

    [Fact]
    public async Task Each_candidate_is_scored_against_its_own_images_memory()
    {
        var (model, source, neighbors) = Setup();
        using var _ = model;
        using var __ = neighbors;
        using var head = new RewardHead(Options.ModelDimension, thresholdKm: 5000);
        var builder = new CandidatePoolBuilder(model, Pool);
        using var batch = source.ReadBatch([10, 20, 30]);
        var pools = builder.Build(batch, [10, 20, 30], Ct);
        var scored = Score(head, model, batch, pools);
        for (int i = 0; i < 3; i++)
        {
            // The same image alone: same rewards (a candidate never sees another image's neighbors).
            using var single = source.ReadBatch([10 + 10 * i]);
            var alone = Score(head, model, single, [pools[i]])[0];
            Assert.Equal(pools[i].Count, scored[i].Count);
            for (int c = 0; c < alone.Count; c++)
            {
                Assert.InRange(scored[i][c], 0, 1);
                // A batch of one rounds differently: the reward, a sigmoid of float32 states, moves by far less than 1e-5.
                Assert.Equal(alone[c], scored[i][c], 1e-5);
            }
        }

        // Swapping the images' pools changes the scores: the memory matters.
        var swapped = Score(head, model, batch, [pools[1], pools[0], pools[2]]);
        Assert.NotEqual(scored[0], swapped[1]);

        // The reward reranker ranks by the reward scores that reach it with the query; without them it throws so that a
        // fallback can take over, and so it does for a candidate that was not in the scored pool.
        var query = new RerankQuery { PoolScores = [new CandidateScores(RewardReranker.ScorerName, pools[0], scored[0])] };
        var ranked = await new RewardReranker().RerankAsync(query, pools[0], Ct);
        Assert.Equal(scored[0].Max(), ranked.Best.Score);
        Assert.Same(pools[0][scored[0].ToList().IndexOf(scored[0].Max())], ranked.Best.Candidate);
        await Assert.ThrowsAsync<RerankerException>(() => new RewardReranker().RerankAsync(new RerankQuery(), pools[0], Ct));
        var stranger = pools[0][0] with { Count = 99 }; // an equal-looking copy is not the scored candidate
        await Assert.ThrowsAsync<RerankerException>(() => new RewardReranker().RerankAsync(query, [stranger], Ct));

        // Through a cascade the top N keep their scores (they are the same candidates).
        var cascade = await new CascadeReranker(new LogProbReranker(), new RewardReranker(), 3).RerankAsync(query, pools[0], Ct);
        Assert.Equal("reward", cascade.DecidedBy);
    }

    [Fact]
    public void The_scorer_gives_the_scores_of_a_second_encoder_pass_without_running_the_encoder_again()
    {
        var (model, source, neighbors) = Setup();
        using var _ = model;
        using var __ = neighbors;
        random.manual_seed(11);
        using var head = new RewardHead(Options.ModelDimension, thresholdKm: 2000);
        using var batch = source.ReadBatch([3, 14, 15, 92]);
        using var encoded = model.EncodeBatch(batch);
        var pools = new CandidatePoolBuilder(model, Pool).Build(encoded, [3, 14, 15, 92], Ct);
        long runs = model.EncoderRuns;
        var scores = head.Score(encoded, pools);
        Assert.Equal(runs, model.EncoderRuns);

        // What RewardHead.Score computed before the pipeline: the encoder run again on the batch, each candidate decoded
        // against its own image's memory. Same batch, same shapes, same operations: the same bits.
        var expected = pools.Select(p => Enumerable.Repeat(double.NaN, p.Count).ToArray()).ToArray();
        var rows = pools.SelectMany((p, i) => p.Select((c, j) => (i, j, c))).ToArray();
        using (var scope = NewDisposeScope())
        using (no_grad())
        using (var cache = model.BeginDecoding(batch))
        {
            cache.Reorder(new ReadOnlySpan<long>([.. rows.Select(r => (long)r.i)]));
            var tokens = tensor(rows.SelectMany(r => r.c.Tokens!.Select(t => (long)t)).ToArray(), [rows.Length, Options.SequenceLength]);
            var states = model.DecoderStates(cache, tokens).select(1, Options.SequenceLength);
            var p = sigmoid(head.forward(states)).to_type(ScalarType.Float64).data<double>().ToArray();
            for (int r = 0; r < rows.Length; r++) expected[rows[r].i][rows[r].j] = p[r];
        }

        Assert.Equal(runs + 1, model.EncoderRuns);
        Assert.Equal(expected.Length, scores.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], scores[i]);
    }

    private static IReadOnlyList<IReadOnlyList<double>> Score(RewardHead head, GeoTokenModel model, GeoTokenBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools)
    {
        using var encoded = model.EncodeBatch(batch);
        return head.Score(encoded, pools);
    }

    [Fact]
    public void Labels_follow_the_threshold_and_training_lowers_the_loss()
    {
        var (model, source, neighbors) = Setup();
        using var _ = model;
        using var __ = neighbors;
        using var head = new RewardHead(Options.ModelDimension, thresholdKm: 6000);
        var truth = new LatLng(48.85, 2.35);
        var pool = new[] { GeoCandidate.At(new LatLng(48.9, 2.3), CandidateSources.Sample), GeoCandidate.At(new LatLng(-33.9, 151.2), CandidateSources.Sample) };
        Assert.Equal([1f, 0f], head.Labels([pool], [(0, 0), (0, 1)], [truth]));

        var reports = new List<RewardTrainingProgress>();
        var result = RewardTrainer.Train(model, head, source, new RewardTrainingOptions { Epochs = 6, BatchSize = 16, MaxRows = 64, LearningRate = 3e-3, Pool = Pool, ProgressEverySteps = 1 },
            new SyncProgress<RewardTrainingProgress>(reports.Add), Ct);
        Assert.Equal(6 * 4, result.Steps);
        Assert.InRange(result.PositiveRate, 0.03, 0.97); // both classes occur at this threshold (an untrained model)
        Assert.True(result.EpochLosses[^1] < result.EpochLosses[0], $"losses {string.Join(", ", result.EpochLosses.Select(l => l.ToString("F3")))}");
        Assert.Equal(24, reports.Count);

        // Round trip through a file: the same scores; a file of another kind is refused.
        string path = TestData.TempPath("r.gtr");
        RewardHeadFile.Save(head, path);
        using var loaded = RewardHeadFile.Load(path);
        Assert.Equal(6000, loaded.ThresholdKm);
        using var batch = source.ReadBatch([1, 2]);
        var pools = new CandidatePoolBuilder(model, Pool).Build(batch, [1, 2], Ct);
        Assert.Equal(Score(head, model, batch, pools).SelectMany(p => p), Score(loaded, model, batch, pools).SelectMany(p => p));
        string modelPath = TestData.TempPath("m.gtm");
        GeoTokenModelFile.Save(model, modelPath);
        Assert.Contains("not a reward head", Assert.Throws<InvalidDataException>(() => RewardHeadFile.Load(modelPath)).Message);
        using var wrong = new RewardHead(16);
        Assert.Throws<ArgumentException>(() => Score(wrong, model, batch, pools));
    }
}

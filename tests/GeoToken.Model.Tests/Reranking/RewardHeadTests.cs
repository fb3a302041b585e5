using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model.Decoding;
using GeoToken.Model.Reranking;
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

    /// <summary>A seeded micro model in evaluation mode over the fixture's training rows with their neighbours.</summary>
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
        var scored = head.Score(model, batch, pools);
        for (int i = 0; i < 3; i++)
        {
            // The same image alone: same rewards (a candidate never sees another image's neighbours).
            using var single = source.ReadBatch([10 + 10 * i]);
            var alone = head.Score(model, single, [pools[i]])[0];
            Assert.Equal(pools[i].Count, scored[i].Count);
            for (int c = 0; c < alone.Count; c++)
            {
                Assert.InRange(scored[i][c].Reward, 0, 1);
                // A batch of one rounds differently: the reward, a sigmoid of float32 states, moves by far less than 1e-5.
                Assert.Equal(alone[c].Reward, scored[i][c].Reward, 1e-5);
            }
        }

        // Swapping the images' pools changes the scores: the memory matters.
        var swapped = head.Score(model, batch, [pools[1], pools[0], pools[2]]);
        Assert.NotEqual(scored[0].Select(c => c.Reward), swapped[1].Select(c => c.Reward));

        // The reward reranker ranks by reward; unscored pools make it throw so that a fallback can take over.
        var ranked = await new RewardReranker().RerankAsync(new RerankQuery(), scored[0], Ct);
        Assert.Equal(scored[0].Max(c => c.Reward), ranked.Best.Candidate.Reward);
        await Assert.ThrowsAsync<RerankerException>(() => new RewardReranker().RerankAsync(new RerankQuery(), pools[0], Ct));
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
        Assert.Equal(head.Score(model, batch, pools).SelectMany(p => p.Select(c => c.Reward)), loaded.Score(model, batch, pools).SelectMany(p => p.Select(c => c.Reward)));
        string modelPath = TestData.TempPath("m.gtm");
        GeoTokenModelFile.Save(model, modelPath);
        Assert.Contains("not a reward head", Assert.Throws<InvalidDataException>(() => RewardHeadFile.Load(modelPath)).Message);
        using var wrong = new RewardHead(16);
        Assert.Throws<ArgumentException>(() => wrong.Score(model, batch, pools));
    }
}

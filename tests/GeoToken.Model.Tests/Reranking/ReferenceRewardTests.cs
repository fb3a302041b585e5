using GeoToken.Decoding;
using GeoToken.Model.Training;
using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Reranking;

/// <summary>The reference's reward recipe: a two-bin head, trained with the whole transformer (<see cref="RewardTrainingOptions.Reference"/>).</summary>
public sealed class ReferenceRewardTests(SynthGeoFixture data) : IClassFixture<SynthGeoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly GeoTokenModelOptions Options = RewardHeadTests.Options;

    private static Dictionary<string, float[]> Weights(GeoTokenModel model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());

    [Fact]
    public void The_reference_preset_is_the_scripts_recipe()
    {
        var r = RewardTrainingOptions.Reference;
        Assert.Equal((2048, RewardHeadOutput.TwoBins, true, false, true), (r.HiddenDimension, r.Output, r.FineTuneModel, r.ClassBalanced, r.WeightBySampleCount));
        Assert.Equal((40, 512, 5e-5, 0.01, 0.9), (r.Epochs, r.BatchSize, r.LearningRate, r.WeightDecay, r.LearningRateDecay));
        Assert.Equal((false, 10, 0.7), (r.Pool.Greedy, r.Pool.Samples, r.Pool.Temperature));
        var ours = new RewardTrainingOptions();
        Assert.Equal((null, RewardHeadOutput.Logit, false, true, false), (ours.HiddenDimension, ours.Output, ours.FineTuneModel, ours.ClassBalanced, ours.WeightBySampleCount));
    }

    [Fact]
    public void A_two_bin_heads_reward_is_the_softmax_probability_of_the_within_bin()
    {
        random.manual_seed(3);
        using var head = new RewardHead(32, 200, 48, RewardHeadOutput.TwoBins);
        using var states = randn(20, 32);
        var reward = sigmoid(head.forward(states)).data<float>().ToArray();
        var bin0 = head.BinLogits(states).softmax(-1).select(1, 0).data<float>().ToArray();
        // sigmoid(a − b) = e^a / (e^a + e^b): the same number, computed two ways in float32.
        for (int i = 0; i < 20; i++) Assert.Equal(bin0[i], reward[i], 1e-6);
    }

    [Fact]
    public void Fine_tuning_trains_a_copy_of_the_transformer_which_then_scores_and_is_saved_with_the_head()
    {
        var (model, source, neighbors) = RewardHeadTests.Setup(data);
        using var _ = model;
        using var __ = neighbors;
        var before = Weights(model);

        // The grad-enabled teacher-forced states are the cached inference states.
        var pool = new CandidatePoolOptions { Greedy = false, Samples = 6, Temperature = 1.5 };
        using (var batch = source.ReadBatch([3, 4]))
        {
            var pools = new CandidatePoolBuilder(model, pool).Build(batch, [3, 4], Ct);
            using var encoded = model.EncodeBatch(batch);
            var (cached, rows) = RewardHead.CandidateStates(encoded, pools);
            var (_, images, seq) = RewardHead.CandidateRows(Options.SequenceLength, pools);
            using var full = model.TeacherForcedStates(batch, tensor(images), tensor(seq, [rows.Length, Options.SequenceLength])).select(1, Options.SequenceLength);
            // Cached and full decoding agree within 1e-5 per value (DecoderCacheTests); states are pre-head values.
            Assert.True(full.sub(cached).abs().max().item<float>() <= 1e-4f);
            cached.Dispose();
        }

        using var head = new RewardHead(Options.ModelDimension, thresholdKm: 6000, hiddenDimension: 48, RewardHeadOutput.TwoBins);
        var options = RewardTrainingOptions.Reference with { Epochs = 4, BatchSize = 16, MaxRows = 48, LearningRate = 2e-3, Pool = pool };
        var result = RewardTrainer.Train(model, head, source, options, null, Ct);
        Assert.Equal(4 * 3, result.Steps);
        Assert.InRange(result.PositiveRate, 0.03, 0.97);
        Assert.True(result.EpochLosses[^1] < result.EpochLosses[0], $"losses {string.Join(", ", result.EpochLosses)}");

        // The model that sampled the pools is untouched; the head's copy of it was trained.
        var after = Weights(model);
        Assert.All(before, kv => Assert.True(kv.Value.AsSpan().SequenceEqual(after[kv.Key]), $"{kv.Key} of the sampling model changed"));
        var scorer = head.ScorerModel;
        Assert.NotNull(scorer);
        var tuned = Weights(scorer);
        Assert.Contains(before, kv => !kv.Value.AsSpan().SequenceEqual(tuned[kv.Key]));

        // Scoring reads the fine-tuned copy's states, not the given model's.
        using var evalBatch = source.ReadBatch([7, 8]);
        var evalPools = new CandidatePoolBuilder(model, pool).Build(evalBatch, [7, 8], Ct);
        using var evalEncoded = model.EncodeBatch(evalBatch);
        using var scorerEncoded = scorer.EncodeBatch(evalBatch);
        var scored = head.Score(evalEncoded, evalPools).SelectMany(p => p.Where(r => !double.IsNaN(r))).ToArray();
        var (own, _) = RewardHead.CandidateStates(scorerEncoded, evalPools);
        var (frozen, _) = RewardHead.CandidateStates(evalEncoded, evalPools);
        var expected = sigmoid(head.forward(own)).data<float>().ToArray();
        var wrong = sigmoid(head.forward(frozen)).data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], scored[i], 1e-6);
        Assert.Contains(Enumerable.Range(0, wrong.Length), i => Math.Abs(wrong[i] - scored[i]) > 1e-3);
        own.Dispose();
        frozen.Dispose();

        // The file carries the shape and the fine-tuned transformer: the same scores after loading.
        string path = TestData.TempPath("ref.gtr");
        RewardHeadFile.Save(head, path);
        using var loaded = RewardHeadFile.Load(path);
        Assert.Equal((48, RewardHeadOutput.TwoBins), (loaded.HiddenDimension, loaded.Output));
        Assert.NotNull(loaded.ScorerModel);
        Assert.Equal(scored, loaded.Score(evalEncoded, evalPools).SelectMany(p => p.Where(r => !double.IsNaN(r))));
    }
}

using GeoToken.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Training;

/// <summary><see cref="GeoTokenTrainerOptions.GradientAccumulationSteps"/> and <see cref="GeoTokenTrainerOptions.Precision"/>.</summary>
public class AccumulationAndPrecisionTests
{
    private static readonly GeoTokenModelOptions Options = TestData.Micro(dropout: 0);

    /// <summary>
    /// AdamW's first update is <c>−lr · g / (|g| + ε)</c> (weight decay 0); with <c>lr = ε = 1e4</c> and gradients far below
    /// 1e4 it is <c>−g</c> to 1e-4 relative, so weight changes read back the step's gradient.
    /// </summary>
    private static GeoTokenTrainerOptions GradientReadout(int batchSize, int accumulation = 1, TrainingPrecision precision = TrainingPrecision.Float32) => new()
    {
        BatchSize = batchSize,
        GradientAccumulationSteps = accumulation,
        Precision = precision,
        LearningRate = 1e4,
        Epsilon = 1e4,
        WeightDecay = 0,
        LearningRateDecay = 1,
        Seed = 3,
    };

    private static GeoTokenModel NewModel()
    {
        random.manual_seed(11);
        return new GeoTokenModel(Options);
    }

    private static Dictionary<string, float[]> Weights(GeoTokenModel model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());

    private static Dictionary<string, double[]> Change(Dictionary<string, float[]> before, Dictionary<string, float[]> after) =>
        before.ToDictionary(kv => kv.Key, kv => kv.Value.Select((w, i) => (double)after[kv.Key][i] - w).ToArray());

    private static GeoTokenBatch Slice(GeoTokenBatch b, int start, int length) => new(
        b.QueryFeatures.narrow(0, start, length).clone(), b.NeighborFeatures.narrow(0, start, length).clone(),
        b.NeighborTokens.narrow(0, start, length).clone(), b.TargetTokens!.narrow(0, start, length).clone());

    [Fact]
    public void One_step_accumulating_four_batches_of_8_is_one_step_of_batch_32()
    {
        using var big = TestData.Batch(Options, 32, seed: 5);
        var parts = Enumerable.Range(0, 4).Select(i => Slice(big, 8 * i, 8)).ToArray();
        using var one = NewModel();
        using var four = NewModel();
        var w0 = Weights(one);
        using var t1 = new GeoTokenTrainer(one, GradientReadout(32));
        using var t4 = new GeoTokenTrainer(four, GradientReadout(8, accumulation: 4));
        double l1 = t1.TrainStep(big);
        double l4 = t4.TrainStep(parts);
        foreach (var p in parts) p.Dispose();
        Assert.Equal(1, t4.GlobalStep);

        // The same 32 rows' losses and gradients, summed in another order: float32 rounding (≈ 6e-8 per operation) over
        // sums of at most a few hundred terms stays far below 1e-5 of the largest entry.
        Assert.True(Math.Abs(l1 - l4) <= 1e-5 * l1, $"loss of batch 32 {l1}, of 4 × 8 accumulated {l4}");
        var g1 = Change(w0, Weights(one));
        var g4 = Change(w0, Weights(four));
        double scale = g1.Values.Max(g => g.Max(Math.Abs));
        Assert.True(scale > 1e-3, "the step should move the weights");
        foreach (var (name, g) in g1)
        {
            double worst = g.Select((x, i) => Math.Abs(x - g4[name][i])).Max();
            Assert.True(worst <= 1e-5 * scale + 1e-6, $"{name}: accumulated step differs by {worst:E2} (largest change {scale:E2})");
        }

        // Each 8-row batch alone gives a different step: the accumulation is what makes them equal.
        using var lone = NewModel();
        using var tl = new GeoTokenTrainer(lone, GradientReadout(8));
        using (var first = Slice(big, 0, 8)) tl.TrainStep(first);
        var gl = Change(w0, Weights(lone));
        Assert.Contains(g1, kv => kv.Value.Select((x, i) => Math.Abs(x - gl[kv.Key][i])).Max() > 100 * (1e-5 * scale + 1e-6));
    }

    [Fact]
    public void Training_with_accumulation_takes_steps_of_the_effective_batch_and_matches_the_big_batch()
    {
        // 72 rows: steps of 32, 32 and 8 rows either way.
        var source = new SyntheticBatchSource(Options, 72, seed: 4, learnable: true);
        using var a = NewModel();
        using var b = NewModel();
        using var big = new GeoTokenTrainer(a, GradientReadout(32) with { Epochs = 1 });
        using var acc = new GeoTokenTrainer(b, GradientReadout(8, accumulation: 4) with { Epochs = 1 });
        Assert.Equal(32, acc.Options.EffectiveBatchSize);
        Assert.Equal(3, acc.StepsPerEpoch(72));
        var rb = big.Train(source, cancellationToken: TestContext.Current.CancellationToken);
        var ra = acc.Train(source, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, ra.GlobalStep);
        Assert.Equal(rb.EpochMeanLosses[0], ra.EpochMeanLosses[0], 1e-4);

        // Three steps: each later gradient is taken at weights that differ by the earlier steps' rounding, so the bound
        // is looser than for one step but still far below the steps themselves.
        var wa = Weights(a);
        var wb = Weights(b);
        var w0 = Weights(NewModel());
        double scale = Change(w0, wa).Values.Max(g => g.Max(Math.Abs));
        foreach (var (name, w) in wa)
        {
            double worst = w.Select((x, i) => Math.Abs(x - wb[name][i])).Max();
            Assert.True(worst <= 1e-4 * scale + 1e-5, $"{name}: {worst:E2} apart after an epoch (largest change {scale:E2})");
        }
    }

    [Fact]
    public void BFloat16_steps_follow_the_float32_gradient_and_keep_float32_master_weights()
    {
        using var batch = TestData.Batch(Options, 32, seed: 6);
        using var fp32 = NewModel();
        using var bf16 = NewModel();
        var w0 = Weights(fp32);
        using var t32 = new GeoTokenTrainer(fp32, GradientReadout(32));
        using var t16 = new GeoTokenTrainer(bf16, GradientReadout(16, accumulation: 2, precision: TrainingPrecision.BFloat16));
        double l32 = t32.TrainStep(batch);
        double l16;
        using (var h1 = Slice(batch, 0, 16))
        using (var h2 = Slice(batch, 16, 16))
        {
            l16 = t16.TrainStep([h1, h2]);
        }

        Assert.All(bf16.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));

        // bfloat16 keeps 8 significant bits (relative rounding 2^-9 ≈ 0.002 per value); through this 2 + 2-layer model the
        // loss moves by well under 1 % and the gradient by a few percent in L2, not in direction.
        Assert.True(Math.Abs(l16 - l32) <= 0.01 * l32, $"loss in float32 {l32}, in bfloat16 {l16}");
        var g32 = Change(w0, Weights(fp32)).Values.SelectMany(v => v).ToArray();
        var g16 = Change(w0, Weights(bf16)).Values.SelectMany(v => v).ToArray();
        double dot = 0, n32 = 0, n16 = 0, diff = 0;
        for (int i = 0; i < g32.Length; i++)
        {
            dot += g32[i] * g16[i];
            n32 += g32[i] * g32[i];
            n16 += g16[i] * g16[i];
            diff += (g32[i] - g16[i]) * (g32[i] - g16[i]);
        }

        double cosine = dot / Math.Sqrt(n32 * n16), relative = Math.Sqrt(diff / n32);
        Assert.True(cosine >= 0.99, $"cosine of the bfloat16 and float32 steps {cosine:F4}");
        Assert.True(relative <= 0.1, $"relative L2 difference of the steps {relative:F4}");
    }

    [Fact]
    public void Invalid_settings_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new GeoTokenTrainerOptions { GradientAccumulationSteps = 0 }.Validate());
        Assert.Contains("GradientAccumulationSteps is 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GeoTokenTrainerOptions { Precision = (TrainingPrecision)9 }.Validate());
        Assert.Contains("Precision is 9", e.Message);
    }
}

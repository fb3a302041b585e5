using GeoToken.Tokens;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Model;

public class GeoTokenModelTests
{
    [Theory]
    [InlineData(ContextLayout.Paper, 5, 1 + 3 + 5 * (3 + 6))]
    [InlineData(ContextLayout.Compact, 5, 1 + 3 + 5)]
    [InlineData(ContextLayout.Paper, 0, 1 + 3)]
    public void Encoder_output_has_one_vector_per_context_position(ContextLayout layout, int k, int positions)
    {
        var options = TestData.Micro(layout: layout) with { NeighborCount = k };
        Assert.Equal(positions, options.ContextLength);
        using var model = new GeoTokenModel(options);
        using var batch = TestData.Batch(options, 2);
        using var memory = model.Encode(batch);
        Assert.Equal(new long[] { 2, positions, 32 }, memory.shape);
    }

    [Fact]
    public void Forward_returns_one_logit_tensor_per_position_with_that_positions_vocabulary()
    {
        var options = TestData.Micro() with { Tokenizer = new GeoTokenizerOptions { Level = 7, GroupSize = 3 } };
        using var model = new GeoTokenModel(options);
        using var batch = TestData.Batch(options, 4);
        using var scope = NewDisposeScope();
        var logits = model.Forward(batch);
        // L = 7, G = 3: face, then 3 + 3 + 1 levels → 6, 64, 64, 4.
        Assert.Equal(new long[] { 6, 64, 64, 4 }, logits.Select(l => l.shape[1]).ToArray());
        Assert.All(logits, l => Assert.Equal(4, l.shape[0]));
    }

    [Fact]
    public void Dropout_acts_in_training_mode_only()
    {
        var options = TestData.Micro(dropout: 0.3);
        using var model = new GeoTokenModel(options);
        using var batch = TestData.Batch(options, 3);
        using var scope = NewDisposeScope();
        model.train();
        var a = model.Forward(batch)[3];
        var b = model.Forward(batch)[3];
        Assert.True((a - b).abs().max().item<float>() > 1e-3);
        model.eval();
        var c = model.Forward(batch)[3];
        var d = model.Forward(batch)[3];
        Assert.Equal(0f, (c - d).abs().max().item<float>());
    }

    [Fact]
    public void Decoder_is_causal_a_later_target_token_does_not_change_earlier_logits()
    {
        var options = TestData.Micro(NormOrder.Pre, ContextLayout.Paper);
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 2);
        using var scope = NewDisposeScope();
        var before = model.Forward(batch);
        batch.TargetTokens![TensorIndex.Colon, 3] = (batch.TargetTokens[TensorIndex.Colon, 3] + 1) % 16;
        var after = model.Forward(batch);
        for (int p = 0; p <= 3; p++) Assert.Equal(0f, (before[p] - after[p]).abs().max().item<float>());
        Assert.True((before[4] - after[4]).abs().max().item<float>() > 1e-4, "position 4 reads token 3");
    }

    [Fact]
    public void Every_neighbor_token_and_feature_reaches_the_encoder_in_both_layouts()
    {
        foreach (var layout in new[] { ContextLayout.Paper, ContextLayout.Compact })
        {
            var options = TestData.Micro(layout: layout);
            using var model = new GeoTokenModel(options);
            model.eval();
            using var batch = TestData.Batch(options, 1);
            using var scope = NewDisposeScope();
            var m0 = model.Encode(batch);
            batch.NeighborTokens[0, 4, 5] = (batch.NeighborTokens[0, 4, 5] + 1) % 4;
            var m1 = model.Encode(batch);
            Assert.True((m0 - m1).abs().max().item<float>() > 1e-4, $"{layout}: last token of last neighbor ignored");
            batch.NeighborFeatures[0, 4, 2] = batch.NeighborFeatures[0, 4, 2] * -1;
            var m2 = model.Encode(batch);
            Assert.True((m1 - m2).abs().max().item<float>() > 1e-4, $"{layout}: third view of last neighbor ignored");
        }
    }

    [Fact]
    public void Bad_batches_are_rejected_with_the_tensor_named()
    {
        var options = TestData.Micro();
        using var model = new GeoTokenModel(options);
        using (var wrongDim = TestData.Batch(options with { FeatureDimension = 25 }, 2))
        {
            var e = Assert.Throws<ArgumentException>(() => model.Encode(wrongDim));
            Assert.Contains("QueryFeatures has shape [2, 3, 25]", e.Message);
        }

        using var batch = TestData.Batch(options, 2);
        batch.NeighborTokens[1, 2, 1] = tensor(16L);
        var e2 = Assert.Throws<ArgumentException>(() => model.Encode(batch));
        Assert.Contains("NeighborTokens holds token 16 at position 1", e2.Message);

        using var noTargets = new GeoTokenBatch(batch.QueryFeatures.clone(), batch.NeighborFeatures.clone(), batch.NeighborTokens.clone());
        var e3 = Assert.Throws<ArgumentException>(() => model.Forward(noTargets));
        Assert.Contains("TargetTokens is null", e3.Message);
    }

    [Fact]
    public void Moves_to_a_device_and_keeps_working()
    {
        var options = TestData.Micro();
        using var model = new GeoTokenModel(options);
        model.to(CPU);
        Assert.Equal(DeviceType.CPU, model.Device.type);
        using var batch = TestData.Batch(options, 2);
        using var scope = NewDisposeScope();
        Assert.Equal(options.SequenceLength, model.Forward(batch).Length);
    }
}

using GeoToken.Model.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

public class DecoderCacheTests
{
    public static TheoryData<NormOrder, ContextLayout> Configurations => new()
    {
        { NormOrder.Post, ContextLayout.Compact },
        { NormOrder.Post, ContextLayout.Paper },
        { NormOrder.Pre, ContextLayout.Compact },
        { NormOrder.Pre, ContextLayout.Paper },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Cached_steps_match_full_redecoding_of_every_prefix(NormOrder norm, ContextLayout layout)
    {
        random.manual_seed(11);
        var options = TestData.Micro(norm, layout);
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 3, seed: 5);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var memory = model.Encode(batch);
        var tokens = batch.TargetTokens!;
        using var cache = model.BeginDecoding(batch);
        int t = options.SequenceLength;
        double worst = 0;
        for (int p = 0; p < t; p++)
        {
            var cachedLogits = cache.StepLogits(p == 0 ? null : tokens.select(1, p - 1));
            var full = model.Decode(memory, tokens.narrow(1, 0, p));
            Assert.Equal(p + 1, full.Length);
            Assert.Equal(full[p].shape, cachedLogits.shape);
            worst = Math.Max(worst, (cachedLogits - full[p]).abs().max().item<float>());
        }

        Assert.True(worst < 1e-5, $"max |cached − full| = {worst}");
        Assert.True(cache.IsComplete);
    }

    [Fact]
    public void Step_returns_log_probabilities_of_the_positions_vocabulary()
    {
        random.manual_seed(3);
        var options = TestData.Micro();
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 2);
        using var scope = NewDisposeScope();
        using var cache = model.BeginDecoding(batch);
        var vocab = model.Tokenizer.VocabularySizes.ToArray();
        Tensor? prev = null;
        for (int p = 0; p < options.SequenceLength; p++)
        {
            var logp = cache.Step(prev);
            Assert.Equal(new long[] { 2, vocab[p] }, logp.shape);
            var sums = logp.exp().sum(1);
            Assert.True((sums - 1).abs().max().item<float>() < 1e-5);
            prev = logp.argmax(1);
        }

        Assert.Throws<InvalidOperationException>(() => cache.Step(prev));
    }

    [Fact]
    public void Reorder_follows_selected_rows_and_repeats_them()
    {
        random.manual_seed(4);
        var options = TestData.Micro(NormOrder.Pre, ContextLayout.Paper);
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 3, seed: 9);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = batch.TargetTokens!;
        var memory = model.Encode(batch);

        using var cache = model.BeginDecoding(batch);
        cache.Step(null);
        cache.Step(tokens.select(1, 0));
        // Rows 2, 0, 0, 1: reordered and row 0 repeated (as when expanding beams).
        var rows = tensor(new long[] { 2, 0, 0, 1 });
        cache.Reorder(rows);
        Assert.Equal(4, cache.BatchSize);
        var next = cache.StepLogits(tokens.index_select(0, rows).select(1, 1));

        var full = model.Decode(memory.index_select(0, rows), tokens.index_select(0, rows).narrow(1, 0, 2));
        Assert.True((next - full[2]).abs().max().item<float>() < 1e-5);
        float repeatDiff = (next[1] - next[2]).abs().max().item<float>();
        Assert.True(repeatDiff < 1e-5, $"repeated rows differ by {repeatDiff}");
    }

    [Fact]
    public void Bad_step_arguments_name_the_problem()
    {
        var options = TestData.Micro();
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 2);
        using var cache = model.BeginDecoding(batch);
        var e1 = Assert.Throws<ArgumentException>(() => cache.Step(tensor(new long[] { 0, 0 })));
        Assert.Contains("position 0", e1.Message);
        cache.Step(null);
        var e2 = Assert.Throws<ArgumentException>(() => cache.Step(null));
        Assert.Contains("position 0", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => cache.Step(tensor(new long[] { 0, 6 })));
        Assert.Contains("token 6 at position 0", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => cache.Reorder(tensor(new long[] { 0, 2 })));
        Assert.Contains("2", e4.Message);
        cache.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cache.Step(tensor(new long[] { 0, 0 })));
    }
}

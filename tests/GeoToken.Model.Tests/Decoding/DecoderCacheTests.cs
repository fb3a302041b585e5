using GeoToken.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

public class DecoderCacheTests
{
    public static TheoryData<NormOrder, ContextLayout, bool> Configurations => new()
    {
        { NormOrder.Post, ContextLayout.Compact, false },
        { NormOrder.Post, ContextLayout.Paper, false },
        { NormOrder.Pre, ContextLayout.Compact, false },
        { NormOrder.Pre, ContextLayout.Paper, false },
        { NormOrder.Post, ContextLayout.Compact, true },
        { NormOrder.Pre, ContextLayout.Paper, true },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Cached_steps_match_full_redecoding_of_every_prefix(NormOrder norm, ContextLayout layout, bool copy)
    {
        random.manual_seed(11);
        var options = TestData.Micro(norm, layout, copy: copy);
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
            var full = model.Decode(memory, tokens.narrow(1, 0, p), batch.NeighborTokens);
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
        var options = TestData.Micro(NormOrder.Pre, ContextLayout.Paper, copy: true);
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

        var full = model.Decode(memory.index_select(0, rows), tokens.index_select(0, rows).narrow(1, 0, 2), batch.NeighborTokens.index_select(0, rows));
        Assert.True((next - full[2]).abs().max().item<float>() < 1e-5);
        float repeatDiff = (next[1] - next[2]).abs().max().item<float>();
        Assert.True(repeatDiff < 1e-5, $"repeated rows differ by {repeatDiff}");
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Expanded_rows_share_the_memory_and_match_full_redecoding_after_group_preserving_reorders(NormOrder norm, ContextLayout layout, bool copy)
    {
        random.manual_seed(12);
        var options = TestData.Micro(norm, layout, dropout: 0, copy: copy);
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 2, seed: 13);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var memory = model.Encode(batch);
        using var cache = model.BeginDecoding(batch);
        cache.Expand(3);
        Assert.Equal(6, cache.BatchSize);
        Assert.Equal(3, cache.RowsPerMemory);

        // Six rows (three per image) with their own token histories; after every step the rows are
        // permuted within their image's group, as beam search does.
        var g = new Generator(3);
        var vocab = model.Tokenizer.VocabularySizes.ToArray();
        var history = new List<long[]> { };
        var rowsOfImage = new long[] { 0, 0, 0, 1, 1, 1 };
        Tensor? previous = null;
        for (int p = 0; p < options.SequenceLength; p++)
        {
            var cached = cache.StepLogits(previous);
            var prefix = tensor(history.Count == 0 ? new long[6 * 0] : Enumerable.Range(0, 6).SelectMany(r => history.Select(h => h[r])).ToArray(), [6, history.Count]);
            var full = model.Decode(memory.index_select(0, tensor(rowsOfImage)), prefix, batch.NeighborTokens.index_select(0, tensor(rowsOfImage)));
            float diff = (cached - full[p]).abs().max().item<float>();
            Assert.True(diff < 1e-5, $"position {p}: max |cached − full| = {diff}");

            var chosen = randint(vocab[p], [6], generator: g).data<long>().ToArray();
            var order = new long[] { 2, 0, 0, 4, 5, 3 }; // within groups, with a repeat
            if (p < options.SequenceLength - 1)
            {
                cache.Reorder(order);
                Assert.Equal(3, cache.RowsPerMemory);
                history = history.Select(h => order.Select(o => h[o]).ToArray()).ToList();
                chosen = order.Select(o => chosen[o]).ToArray();
                history.Add(chosen);
                previous = tensor(chosen);
            }
        }

        // A reorder that mixes images' rows unevenly falls back to one memory row per row.
        using var cache2 = model.BeginDecoding(batch);
        cache2.Expand(2);
        cache2.Reorder(new long[] { 0, 2, 3 });
        Assert.Equal(1, cache2.RowsPerMemory);
        Assert.Equal(3, cache2.BatchSize);
        var first = cache2.StepLogits(null);
        var reference = model.Decode(memory.index_select(0, tensor(new long[] { 0, 1, 1 })), zeros([3, 0], ScalarType.Int64), batch.NeighborTokens.index_select(0, tensor(new long[] { 0, 1, 1 })))[0];
        Assert.True((first - reference).abs().max().item<float>() < 1e-5);

        // Dropping an image keeps the grouping.
        using var cache3 = model.BeginDecoding(batch);
        cache3.Expand(2);
        cache3.Reorder(new long[] { 2, 3 });
        Assert.Equal(2, cache3.RowsPerMemory);
        var second = cache3.StepLogits(null);
        var reference2 = model.Decode(memory.index_select(0, tensor(new long[] { 1, 1 })), zeros([2, 0], ScalarType.Int64), batch.NeighborTokens.index_select(0, tensor(new long[] { 1, 1 })))[0];
        Assert.True((second - reference2).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Teacher_forced_states_feed_the_heads_like_full_decoding_with_or_without_shared_memory()
    {
        random.manual_seed(14);
        var options = TestData.Micro(NormOrder.Pre, ContextLayout.Compact, dropout: 0);
        using var model = new GeoTokenModel(options);
        model.eval();
        using var batch = TestData.Batch(options, 2, seed: 15);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int t = options.SequenceLength;
        var memory = model.Encode(batch);
        var rows = tensor(new long[] { 0, 0, 1, 1 });
        var tokens = cat([batch.TargetTokens!, batch.TargetTokens!.flip(0)], 0).index_select(0, tensor(new long[] { 0, 2, 1, 3 }));

        using var shared = model.BeginDecoding(batch);
        shared.Expand(2);
        Assert.Equal(2, shared.RowsPerMemory);
        var states = model.DecoderStates(shared, tokens);
        Assert.Equal(new long[] { 4, t + 1, options.ModelDimension }, states.shape);

        var full = model.Decode(memory.index_select(0, rows), tokens.narrow(1, 0, t - 1));
        for (int p = 0; p < t; p++)
        {
            float diff = (model.HeadLogits(p, states.select(1, p)) - full[p]).abs().max().item<float>();
            Assert.True(diff < 1e-5, $"position {p}: {diff}");
        }

        using var perRow = model.BeginDecoding(memory.index_select(0, rows));
        Assert.Equal(1, perRow.RowsPerMemory);
        var states2 = model.DecoderStates(perRow, tokens);
        Assert.True((states - states2).abs().max().item<float>() < 1e-5);
        Assert.True((states[0, t] - states[1, t]).abs().max().item<float>() > 1e-4, "different sequences of one image end in different states");
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

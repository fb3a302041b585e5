using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests;

/// <summary>Small model shapes and random batches for fast tests.</summary>
internal static class TestData
{
    /// <summary>A model small enough for millisecond forward passes: d = 32, 4 heads, ff 64, 2 + 2 layers, M = 3, d_in = 24, k = 5, L = 10 / G = 2 (T = 6).</summary>
    public static GeoTokenModelOptions Micro(NormOrder norm = NormOrder.Post, ContextLayout layout = ContextLayout.Compact, double dropout = 0.1, bool copy = false) => new()
    {
        NeighborCopy = copy,
        ModelDimension = 32,
        HeadCount = 4,
        FeedForwardDimension = 64,
        EncoderLayers = 2,
        DecoderLayers = 2,
        Dropout = dropout,
        ModalityCount = 3,
        FeatureDimension = 24,
        NeighborCount = 5,
        Tokenizer = new GeoTokenizerOptions { Level = 10, GroupSize = 2 },
        NormOrder = norm,
        ContextLayout = layout,
    };

    /// <summary>
    /// A random batch (Gaussian features, uniform valid tokens) drawn from its own generator seeded with <paramref name="seed"/>.
    /// For models with the neighbor-copy head, neighbor <c>j</c> shares its first <c>j mod T</c> tokens with the target,
    /// so that the copy head sees neighbors agreeing with prefixes of every length.
    /// </summary>
    public static GeoTokenBatch Batch(GeoTokenModelOptions options, int b, ulong seed = 1)
    {
        using var g = new Generator(seed);
        var vocab = new GeoTokenizer(options.Tokenizer).VocabularySizes.ToArray();
        int m = options.ModalityCount, din = options.FeatureDimension, k = options.NeighborCount, t = options.SequenceLength;
        Tensor Tokens(long[] leading)
        {
            using var scope = NewDisposeScope();
            var columns = vocab.Select(v => randint(v, [.. leading, 1], generator: g, dtype: ScalarType.Int64)).ToArray();
            return cat(columns, -1).MoveToOuterDisposeScope();
        }

        var query = randn([b, m, din], generator: g);
        var neighbors = randn([b, k, m, din], generator: g);
        var neighborTokens = Tokens([b, k]);
        var targets = Tokens([b]);
        if (options.NeighborCopy)
        {
            for (int j = 0; j < k; j++)
            {
                int shared = j % t;
                if (shared > 0) neighborTokens.select(1, j).narrow(1, 0, shared).copy_(targets.narrow(1, 0, shared));
            }
        }

        return new GeoTokenBatch(query, neighbors, neighborTokens, targets);
    }

    public static string TempPath(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "geotoken-model-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }
}

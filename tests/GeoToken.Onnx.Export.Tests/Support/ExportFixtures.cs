using GeoToken.Model;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Onnx.Export.Tests.Support;

/// <summary>Random models of every exported shape, random batches, and the same batch as flat arrays for the ONNX runtime.</summary>
internal static class ExportFixtures
{
    /// <summary>
    /// The shapes the parity tests cover: the tiny and small presets as they are (compact layout, post-norm, copy head),
    /// the paper preset's shape at small width (paper layout, post-norm, no copy head, k = 15, T = 11), and the remaining
    /// combinations of layout, norm order and copy head at micro width.
    /// </summary>
    public static TheoryData<string> Shapes => new() { "tiny", "small", "paper-shaped", "pre-paper-copy", "post-compact", "pre-compact-copy", "post-paper-copy" };

    public static GeoTokenModelOptions Options(string shape) => shape switch
    {
        "tiny" => GeoTokenModelOptions.Tiny,
        "small" => GeoTokenModelOptions.Small,
        "paper-shaped" => GeoTokenModelOptions.Paper with { ModelDimension = 64, FeedForwardDimension = 128, EncoderLayers = 2, DecoderLayers = 2, FeatureDimension = 32 },
        "pre-paper-copy" => Micro(NormOrder.Pre, ContextLayout.Paper, copy: true),
        "post-compact" => Micro(NormOrder.Post, ContextLayout.Compact, copy: false),
        "pre-compact-copy" => Micro(NormOrder.Pre, ContextLayout.Compact, copy: true),
        "post-paper-copy" => Micro(NormOrder.Post, ContextLayout.Paper, copy: true),
        _ => throw new ArgumentException($"Unknown test shape '{shape}'.", nameof(shape)),
    };

    /// <summary>d = 32, 4 heads, ff 64, 2 + 2 layers, M = 3, d_in = 24, k = 5, L = 10 / G = 2 (T = 6).</summary>
    public static GeoTokenModelOptions Micro(NormOrder norm, ContextLayout layout, bool copy) => new()
    {
        NeighborCopy = copy,
        ModelDimension = 32,
        HeadCount = 4,
        FeedForwardDimension = 64,
        EncoderLayers = 2,
        DecoderLayers = 2,
        ModalityCount = 3,
        FeatureDimension = 24,
        NeighborCount = 5,
        Tokenizer = new GeoTokenizerOptions { Level = 10, GroupSize = 2 },
        NormOrder = norm,
        ContextLayout = layout,
    };

    /// <summary>A seeded random model in evaluation mode.</summary>
    public static GeoTokenModel NewModel(GeoTokenModelOptions options, long seed)
    {
        random.manual_seed(seed);
        var model = new GeoTokenModel(options);
        model.eval();
        return model;
    }

    /// <summary>
    /// A random batch (Gaussian features, uniform valid tokens) from its own generator. Neighbour <c>j</c> shares its first
    /// <c>j mod T</c> tokens with the target, so the copy head sees neighbours agreeing with prefixes of every length.
    /// </summary>
    public static GeoTokenBatch Batch(GeoTokenModelOptions options, int b, ulong seed)
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
        for (int j = 0; j < k; j++)
        {
            int shared = j % t;
            if (shared > 0) neighborTokens.select(1, j).narrow(1, 0, shared).copy_(targets.narrow(1, 0, shared));
        }

        return new GeoTokenBatch(query, neighbors, neighborTokens, targets);
    }

    /// <summary>The batch's inputs as the flat arrays <see cref="Inference.OnnxGeoTokenModel.Encode"/> takes.</summary>
    public static (float[] Query, float[] Neighbors, long[] NeighborTokens) Flat(GeoTokenBatch batch) =>
        (batch.QueryFeatures.data<float>().ToArray(), batch.NeighborFeatures.data<float>().ToArray(), batch.NeighborTokens.data<long>().ToArray());

    /// <summary>A tensor <c>[rows, V]</c> as a row-major array of rows.</summary>
    public static float[][] Rows(Tensor t)
    {
        using var cpu = t.cpu().contiguous();
        var data = cpu.data<float>().ToArray();
        int n = (int)t.shape[0], v = (int)t.shape[1];
        return Enumerable.Range(0, n).Select(r => data.AsSpan(r * v, v).ToArray()).ToArray();
    }

    /// <summary>The rows of a <c>float[rows, V]</c> result.</summary>
    public static float[][] Rows(float[,] a) =>
        Enumerable.Range(0, a.GetLength(0)).Select(r => Enumerable.Range(0, a.GetLength(1)).Select(c => a[r, c]).ToArray()).ToArray();
}

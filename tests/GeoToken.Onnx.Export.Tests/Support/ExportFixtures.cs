using GeoToken.Model;
using GeoToken.Model.Tests;
using GeoToken.Onnx.Inference;
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
        "pre-paper-copy" => TestData.Micro(NormOrder.Pre, ContextLayout.Paper, copy: true),
        "post-compact" => TestData.Micro(NormOrder.Post, ContextLayout.Compact, copy: false),
        "pre-compact-copy" => TestData.Micro(NormOrder.Pre, ContextLayout.Compact, copy: true),
        "post-paper-copy" => TestData.Micro(NormOrder.Post, ContextLayout.Paper, copy: true),
        _ => throw new ArgumentException($"Unknown test shape '{shape}'.", nameof(shape)),
    };

    /// <summary>
    /// A seeded random model in evaluation mode, exported to a temporary folder and opened on ONNX Runtime; disposing
    /// the result disposes all three.
    /// </summary>
    public static Exported Export(string shape, long seed)
    {
        var model = NewModel(Options(shape), seed);
        var dir = new TempDir();
        GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: TestContext.Current.CancellationToken);
        return new Exported(model, dir, new OnnxGeoTokenModel(dir.Path));
    }

    /// <summary>A seeded random model in evaluation mode.</summary>
    public static GeoTokenModel NewModel(GeoTokenModelOptions options, long seed)
    {
        random.manual_seed(seed);
        var model = new GeoTokenModel(options);
        model.eval();
        return model;
    }

    /// <summary>A random batch whose neighbor j shares its first j mod T tokens with the target (the Model tests' batches).</summary>
    public static GeoTokenBatch Batch(GeoTokenModelOptions options, int b, ulong seed) => TestData.Batch(options, b, seed);

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

/// <summary>A TorchSharp model, its export folder and the ONNX model opened from it.</summary>
internal sealed record Exported(GeoTokenModel Model, TempDir Dir, OnnxGeoTokenModel Onnx) : IDisposable
{
    public GeoTokenModelOptions Options => Model.Options;

    public void Dispose()
    {
        Onnx.Dispose();
        Model.Dispose();
        Dir.Dispose();
    }
}

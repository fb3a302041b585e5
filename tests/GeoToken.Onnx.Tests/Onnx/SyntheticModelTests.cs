using System.Numerics.Tensors;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Preprocessing;
using static GeoToken.Onnx.Tests.Support.OnnxModelWriter;

namespace GeoToken.Onnx.Tests.Onnx;

/// <summary>Tiny hand-written ONNX models whose outputs are known exactly.</summary>
public sealed class SyntheticModelTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>8 × 8 input, ImageNet normalisation, raw outputs.</summary>
    private static OnnxImageEncoderOptions Small(TensorLayout layout = TensorLayout.Nchw) => new()
    {
        Preprocessing = ImagePreprocessing.ImageNet with { ResizeShorterSide = 8, CropWidth = 8, CropHeight = 8, Layout = layout },
        L2Normalize = false,
        BatchSize = 3,
    };

    private static readonly List<RgbImage> Images = [.. Enumerable.Range(0, 7).Select(i => Fixtures.Pattern(20 + i, 15 + (2 * i), seed: i))];

    private float[] Expected(OnnxImageEncoderOptions o, int i) => new ImagePreprocessor(o.Preprocessing).Process(Images[i]);

    private string Identity(int elemType, object batch, TensorLayout layout = TensorLayout.Nchw)
    {
        object[] dims = layout == TensorLayout.Nchw ? [batch, 3, 8, 8] : [batch, 8, 8, 3];
        return new OnnxModelWriter().Input("pixels", elemType, dims).Node("Identity", ["pixels"], ["out"]).Output("out", elemType, dims)
            .Save(_dir.File($"identity-{elemType}-{batch}-{layout}.onnx"));
    }

    [Theory]
    [InlineData("N")] // dynamic batch
    [InlineData(4)]   // fixed batch: 7 images run as 4 + 3 and one zero padding image
    [InlineData(1)]
    public async Task The_model_receives_exactly_the_preprocessed_tensor_whatever_the_batch_dimension(object batch)
    {
        var o = Small();
        using var encoder = new OnnxImageEncoder(Identity(Float, batch), o);
        Assert.Equal(batch is int b ? b : null, encoder.FixedBatchSize);
        Assert.Equal(3 * 8 * 8, encoder.Dimension);
        var e = await encoder.EncodeAsync(Images, cancellationToken: Ct);
        Assert.Equal(7, e.Count);
        for (int i = 0; i < 7; i++) Assert.Equal(Expected(o, i), e.GetRow(i));
    }

    [Fact]
    public async Task NHWC_models_get_channels_last()
    {
        var o = Small(TensorLayout.Nhwc);
        using var encoder = new OnnxImageEncoder(Identity(Float, "batch", TensorLayout.Nhwc), o);
        var e = await encoder.EncodeAsync(Images, cancellationToken: Ct);
        for (int i = 0; i < 7; i++) Assert.Equal(Expected(o, i), e.GetRow(i));

        var wrong = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(Identity(Float, "batch", TensorLayout.Nhwc), Small()));
        Assert.Contains("has its channels last; set Preprocessing.Layout = Nhwc", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Float16_models_get_half_precision_inputs_and_their_outputs_are_widened()
    {
        var o = Small();
        using var encoder = new OnnxImageEncoder(Identity(Float16, "N"), o);
        var e = await encoder.EncodeAsync(Images, cancellationToken: Ct);
        for (int i = 0; i < 7; i++)
        {
            float[] expected = Expected(o, i);
            float[] halfRounded = [.. expected.Select(v => (float)(Half)v)];
            Assert.Equal(halfRounded, e.GetRow(i));
            Assert.NotEqual(expected, e.GetRow(i)); // really went through float16
        }
    }

    [Fact]
    public async Task Pooling_modes_and_intermediate_outputs()
    {
        var o = Small();
        string model = new OnnxModelWriter()
            .Input("pixels", Float, "N", 3, 8, 8)
            .Node("GlobalAveragePool", ["pixels"], ["gap"])
            .Node("Flatten", ["gap"], ["flat"])
            .Node("ReduceMean", ["pixels"], ["rows"], ("axes", [3L]), ("keepdims", 0)) // [N, 3, 8]: mean of each row
            .Output("flat", Float, "N", 3)
            .Output("rows", Float, "N", 3, 8)
            .Save(_dir.File("pool.onnx"));
        float[] ChannelMeans(int i) => [.. Enumerable.Range(0, 3).Select(c => TensorPrimitives.Sum(Expected(o, i).AsSpan(c * 64, 64)) / 64)];

        // The first float output by default.
        using (var flat = new OnnxImageEncoder(model, o))
        {
            Assert.Equal("flat", flat.OutputName);
            var e = await flat.EncodeAsync(Images, cancellationToken: Ct);
            for (int i = 0; i < 7; i++) Assert.Equal(ChannelMeans(i), e.GetRow(i), new Tolerance(1e-5f));
        }

        // An intermediate tensor ([N, 3, 1, 1], shape unknown to the metadata) and an input-sized one pooled by the encoder.
        foreach (var (output, pooling) in new[] { ("gap", OutputPooling.Flatten), ("pixels_copy", OutputPooling.GlobalAveragePool) })
        {
            string m = output == "gap" ? model : new OnnxModelWriter().Input("pixels", Float, "N", 3, 8, 8).Node("Identity", ["pixels"], ["pixels_copy"]).Node("GlobalAveragePool", ["pixels_copy"], ["g"]).Output("g", Float, "N", 3, 1, 1).Save(_dir.File("copy.onnx"));
            using var encoder = new OnnxImageEncoder(m, o with { OutputName = output, Pooling = pooling });
            Assert.Equal(3, encoder.Dimension);
            var e = await encoder.EncodeAsync(Images, cancellationToken: Ct);
            for (int i = 0; i < 7; i++) Assert.Equal(ChannelMeans(i), e.GetRow(i), new Tolerance(1e-5f));
        }

        // FirstToken of [N, T = 3, D = 8]: the red channel's row means.
        using (var tokens = new OnnxImageEncoder(model, o with { OutputName = "rows", Pooling = OutputPooling.FirstToken }))
        {
            Assert.Equal(8, tokens.Dimension);
            var e = await tokens.EncodeAsync(Images, cancellationToken: Ct);
            for (int i = 0; i < 7; i++)
            {
                float[] x = Expected(o, i);
                Assert.Equal([.. Enumerable.Range(0, 8).Select(r => TensorPrimitives.Sum(x.AsSpan(r * 8, 8)) / 8)], e.GetRow(i), new Tolerance(1e-5f));
            }
        }

        var bad = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(model, o with { Pooling = OutputPooling.GlobalAveragePool }));
        Assert.Contains("GlobalAveragePool needs a feature map [N, C, H, W]; output 'flat' has shape [1, 3]", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unit_length_by_default_and_a_model_that_outputs_NaN_names_the_image()
    {
        var o = Small() with { L2Normalize = true };
        using (var encoder = new OnnxImageEncoder(Identity(Float, "N"), o))
        {
            var e = await encoder.EncodeAsync(Images, cancellationToken: Ct);
            for (int i = 0; i < 7; i++)
            {
                float[] x = Expected(o, i);
                float n = TensorPrimitives.Norm(x);
                Assert.Equal([.. x.Select(v => v / n)], e.GetRow(i), new Tolerance(1e-6f));
            }
        }

        // log of a normalised black pixel (negative) is NaN.
        string log = new OnnxModelWriter().Input("pixels", Float, "N", 3, 8, 8).Node("Log", ["pixels"], ["out"]).Output("out", Float, "N", 3, 8, 8).Save(_dir.File("log.onnx"));
        using var logEncoder = new OnnxImageEncoder(log, o);
        var error = await Assert.ThrowsAsync<OnnxModelException>(() => logEncoder.EncodeAsync([Fixtures.Solid(8, 8, 255, 255, 255), Fixtures.Solid(8, 8, 0, 0, 0)], cancellationToken: Ct));
        Assert.Contains("for image #1 contains NaN at index 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_that_are_not_single_image_encoders_are_refused_with_a_reason()
    {
        string Save(string name, OnnxModelWriter w) => w.Save(_dir.File(name));
        var o = Small();

        string twoInputs = Save("clip-full.onnx", new OnnxModelWriter().Input("pixels", Float, "N", 3, 8, 8).Input("input_ids", Int64Type, "N", 77)
            .Node("Identity", ["pixels"], ["out"]).Node("Identity", ["input_ids"], ["ids"]).Output("out", Float, "N", 3, 8, 8).Output("ids", Int64Type, "N", 77));
        Assert.Contains("needs other inputs besides the image input 'pixels'", Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(twoInputs, o)).Message, StringComparison.Ordinal);

        string grey = Save("grey.onnx", new OnnxModelWriter().Input("pixels", Float, "N", 1, 8, 8).Node("Identity", ["pixels"], ["out"]).Output("out", Float, "N", 1, 8, 8));
        Assert.Contains("has 1 channels; only 3-channel colour models", Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(grey, o)).Message, StringComparison.Ordinal);

        string bytes = Save("uint8.onnx", new OnnxModelWriter().Input("pixels", UInt8, "N", 3, 8, 8).Node("Cast", ["pixels"], ["out"], ("to", 1)).Output("out", Float, "N", 3, 8, 8));
        var e = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(bytes, o));
        Assert.Contains("has no 4-D float input for images; its inputs are 'pixels' UInt8 [?, 3, 8, 8]", e.Message, StringComparison.Ordinal);
        Assert.Contains("input 'pixels' is UInt8", Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(bytes, o with { InputName = "pixels" })).Message, StringComparison.Ordinal);
        Assert.Contains("has no input 'image'", Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(bytes, o with { InputName = "image" })).Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private sealed class Tolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

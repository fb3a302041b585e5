using System.Globalization;
using GeoToken.Imaging;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Preprocessing;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Preprocessing;

/// <summary>Our resize + crop + normalisation against Pillow + NumPy run for real (the CLIP/GeoCLIP reference pipeline).</summary>
public sealed class PreprocessingPillowTests
{
    public static TheoryData<string, int, int> Cases => new()
    {
        { "clip", 640, 480 },     // the photos' size: downscale, long side 298
        { "clip", 333, 517 },     // portrait, odd sizes
        { "clip", 100, 61 },      // upscale
        { "clip-floor", 301, 225 }, // odd crop margin: Hugging Face floors, torchvision rounds half to even
        { "clip", 301, 225 },
        { "imagenet", 640, 480 },
        { "squeezenet", 500, 375 },
        { "nhwc-padded", 90, 300 }, // crop wider than the resized image: zero padding
    };

    private static ImagePreprocessing Config(string name) => name switch
    {
        "clip" => ImagePreprocessing.Clip,
        "clip-floor" => ImagePreprocessing.Clip with { CropOffsetRounding = CropOffsetRounding.Floor },
        "imagenet" => ImagePreprocessing.ImageNet,
        "squeezenet" => ImagePreprocessing.CaffeSqueezeNet,
        "nhwc-padded" => ImagePreprocessing.ImageNet with { ResizeShorterSide = 64, CropWidth = 120, CropHeight = 100, Layout = TensorLayout.Nhwc, ChannelOrder = ChannelOrder.Bgr },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_Pillow_byte_for_byte_and_NumPy_float_for_float(string config, int width, int height)
    {
        var p = Config(config);
        using var dir = new TempDir();
        var image = Fixtures.Pattern(width, height, seed: width + height);
        string png = dir.File("in.png");
        File.WriteAllBytes(png, Fixtures.Encode(image, SKEncodedImageFormat.Png));
        Assert.Equal(image.Pixels.ToArray(), ImageDecoder.Decode(png).Pixels.ToArray()); // PNG is lossless

        static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        Peer.RunPython(PillowReference.Script, png, dir.File("crop.raw"), dir.File("x.raw"),
            p.ResizeShorterSide.ToString(CultureInfo.InvariantCulture), p.Interpolation.ToString().ToLowerInvariant(),
            p.CropWidth.ToString(CultureInfo.InvariantCulture), p.CropHeight.ToString(CultureInfo.InvariantCulture),
            p.CropOffsetRounding == CropOffsetRounding.Floor ? "floor" : "half_to_even", p.ScaleToUnitRange ? "1" : "0",
            F(p.Mean.Red), F(p.Mean.Green), F(p.Mean.Blue), F(p.Std.Red), F(p.Std.Green), F(p.Std.Blue),
            p.ChannelOrder.ToString().ToLowerInvariant(), p.Layout.ToString().ToLowerInvariant());

        var pre = new ImagePreprocessor(p);
        byte[] expectedCrop = File.ReadAllBytes(dir.File("crop.raw"));
        byte[] actualCrop = pre.ResizeAndCrop(image).Pixels.ToArray();
        Assert.Equal(expectedCrop.Length, actualCrop.Length);
        int mismatches = expectedCrop.Zip(actualCrop).Count(t => t.First != t.Second);
        Assert.True(mismatches == 0, $"{mismatches} of {expectedCrop.Length} bytes differ from Pillow");

        byte[] raw = File.ReadAllBytes(dir.File("x.raw"));
        float[] expected = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, expected, 0, raw.Length);
        float[] actual = pre.Process(image);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i]) Assert.Fail($"value {i}: NumPy {expected[i]:R}, ours {actual[i]:R}");
        }
    }
}

using CsCheck;
using GeoToken.Imaging;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Tests.Support;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Imaging;

/// <summary>
/// Property-based fuzzing of <see cref="ImageDecoder"/>: random bytes and damaged JPEG, PNG, BMP and
/// WebP files either decode to an image of the size the header allows or fail with
/// <see cref="ImageDecodeException"/> naming the source; never another exception, a hang or a crash.
/// Half the inputs are decoded under a small pixel budget, so the reduced-scale and row-by-row paths are fuzzed too.
/// </summary>
public sealed class ImageDecoderFuzzTests
{
    private static readonly byte[][] Seeds =
    [
        File.ReadAllBytes(TestData.Photos[0]),
        File.ReadAllBytes(TestData.CmykJpeg),
        Fixtures.Encode(Fixtures.Pattern(64, 48), SKEncodedImageFormat.Png),
        Fixtures.Encode(Fixtures.Pattern(64, 48), SKEncodedImageFormat.Webp, 80),
        Fixtures.Encode(Fixtures.Pattern(40, 30), SKEncodedImageFormat.Jpeg),
        Fixtures.Bmp24(Fixtures.Pattern(33, 21)),
        SyntheticBombs.SolidGreyJpeg(1200, 900),
    ];

    private static readonly ImageDecodeOptions Small = new() { FullDecodeMaxPixels = 20_000, MaxPixels = 4_000_000 };

    [Fact]
    public Task Damaged_and_random_images_decode_or_fail_with_an_ImageDecodeException_naming_the_source() =>
        Fuzz.SampleAsync(Gen.Select(ByteMutations.Of(Seeds, focus: 1024), Gen.Bool), x =>
        {
            var (bytes, small) = x;
            var options = small ? Small : new ImageDecodeOptions { MaxPixels = 4_000_000 };
            return Fuzz.ParsesOrFailsDocumented(() =>
            {
                var img = ImageDecoder.Decode(bytes, "fuzz-input", options);
                Assert.InRange((long)img.Width * img.Height, 1, options.MaxPixels);
                if (small) Assert.InRange((long)img.Width * img.Height, 1, options.FullDecodeMaxPixels);
            }, "fuzz-input", typeof(ImageDecodeException));
        }, 500, x => ByteMutations.Describe(x.Item1));
}

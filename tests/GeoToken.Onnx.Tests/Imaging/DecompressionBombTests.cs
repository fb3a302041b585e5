using GeoToken.Imaging;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Preprocessing;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Imaging;

/// <summary>
/// Small files claiming huge images: refused beyond <see cref="ImageDecodeOptions.MaxPixels"/>,
/// decoded at a reduced scale beyond <see cref="ImageDecodeOptions.FullDecodeMaxPixels"/>. The
/// decoded size shows which path was taken: a reduced size means no full-size bitmap was allocated.
/// </summary>
public sealed class DecompressionBombTests
{
    [Fact]
    public void A_JPEG_claiming_13370_by_13370_is_refused_before_decoding_naming_the_file_and_its_size()
    {
        using var dir = new TempDir();
        string path = dir.File("bomb.jpg");
        File.WriteAllBytes(path, SyntheticBombs.SolidGreyJpeg(13370, 13370));
        Assert.InRange(new FileInfo(path).Length, 1, 1_000_000);

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("13370×13370 pixels (178.8 MP)", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPixels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bomb_itself_is_a_valid_image_that_decodes_to_solid_grey_when_allowed()
    {
        // The fixture must be a real image, not merely a broken header, or the tests above prove little.
        byte[] jpeg = SyntheticBombs.SolidGreyJpeg(13370, 13370);
        var img = ImageDecoder.Decode(jpeg, "bomb.jpg", new ImageDecodeOptions { MaxPixels = 200_000_000, LargeImageShorterSide = 1000 });
        Assert.Equal((1672, 1672), (img.Width, img.Height)); // 1/8 scale: ceil(13370 / 8)
        Assert.True(img.Pixels.IndexOfAnyExcept((byte)128) < 0, "a solid JPEG whose DC terms are 0 is grey 128 everywhere");
    }

    [Fact]
    public void Over_budget_JPEGs_decode_at_the_smallest_DCT_scale_that_keeps_the_shorter_side_else_the_largest_within_budget()
    {
        byte[] jpeg = SyntheticBombs.SolidGreyJpeg(2000, 1000);
        Size(jpeg, new() { FullDecodeMaxPixels = 3_000_000 }, (2000, 1000));                                       // within budget: exact
        Size(jpeg, new() { FullDecodeMaxPixels = 1_000_000 }, (1250, 625));                                        // 5/8, the largest within
        Size(jpeg, new() { FullDecodeMaxPixels = 1_000_000, LargeImageShorterSide = 300 }, (750, 375));            // 3/8; 2/8 is 250 high
        Size(jpeg, new() { FullDecodeMaxPixels = 1_000_000, LargeImageShorterSide = 700 }, (1250, 625));           // 700 needs > budget
        Size(jpeg, new() { FullDecodeMaxPixels = 1_000_000, MinimumShorterSide = 120, LargeImageShorterSide = 700 }, (250, 125)); // MinimumShorterSide wins: 1/8
    }

    [Fact]
    public void Over_budget_bottom_up_BMPs_are_box_averaged_row_by_row()
    {
        var pattern = Fixtures.Pattern(37, 23);
        var budget = new ImageDecodeOptions { FullDecodeMaxPixels = 100 }; // k = 4: 10 × 6 = 60 ≤ 100 (k = 3 gives 13 × 8 = 104)
        byte[] expected = BoxAverage(pattern, 4);
        byte[] bmp = Fixtures.Bmp24(pattern); // stored bottom-up: rows arrive last first
        var img = ImageDecoder.Decode(bmp, "p.bmp", budget);
        Assert.Equal((10, 6), (img.Width, img.Height));
        Assert.True(img.Pixels.SequenceEqual(expected), "not the 4 × 4 box average of the pattern");

        Size(bmp, budget with { LargeImageShorterSide = 5 }, (8, 5));   // k = 5; k = 6 gives 4 rows
        Size(bmp, budget with { LargeImageShorterSide = 3 }, (5, 3));   // k = 8
    }

    [Fact]
    public void A_PNG_bomb_over_the_budget_is_refused_naming_the_file_and_its_size_since_Skia_cannot_reduce_PNGs()
    {
        byte[] png = SyntheticBombs.SolidGreyPng(9000, 9000, 77);
        Assert.InRange(png.Length, 1, 1_000_000);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png, "bomb.png", new ImageDecodeOptions { LargeImageShorterSide = 224 }));
        Assert.StartsWith("bomb.png: its header claims 9000×9000 pixels, more than ImageDecodeOptions.FullDecodeMaxPixels (25000000)", e.Message, StringComparison.Ordinal);

        // The fixture is a real image: with the budget raised it decodes whole.
        var img = ImageDecoder.Decode(SyntheticBombs.SolidGreyPng(900, 700, 77), "small.png");
        Assert.Equal((900, 700), (img.Width, img.Height));
        Assert.True(img.Pixels.IndexOfAnyExcept((byte)77) < 0);
    }

    [Fact]
    public async Task The_encoder_decodes_an_over_budget_JPEG_at_the_scale_its_preprocessing_needs()
    {
        using var dir = new TempDir();
        string path = dir.File("big.jpg");
        File.WriteAllBytes(path, SyntheticBombs.SolidGreyJpeg(9000, 6000)); // 54 MP: over the 25 MP budget, under the cap
        using var encoder = new OnnxImageEncoder(TestData.SqueezeNet, new() { Preprocessing = ImagePreprocessing.CaffeSqueezeNet, OutputName = "pool10_flattened" });
        var fromFile = await encoder.EncodeAsync([path], cancellationToken: TestContext.Current.CancellationToken);
        var solid = await encoder.EncodeAsync([Fixtures.Solid(340, 227, 128, 128, 128)], cancellationToken: TestContext.Current.CancellationToken);

        // Decoded at 1/8 (1125 × 750) and resized, a solid image is the same solid 227 × 227 input, so
        // the embeddings agree up to ONNX Runtime's batch-independent float error (1e-6 as in the batching test).
        float[] a = fromFile.GetRow(0), b = solid.GetRow(0);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-6f, $"dimension {i}: {a[i]} vs {b[i]}");
    }

    private static void Size(byte[] file, ImageDecodeOptions options, (int W, int H) expected)
    {
        var img = ImageDecoder.Decode(file, "test", options);
        Assert.Equal(expected, (img.Width, img.Height));
    }

    /// <summary>Mean of each k × k block (edge blocks over the pixels they have), rounded half up.</summary>
    private static byte[] BoxAverage(RgbImage img, int k)
    {
        int ow = (img.Width + k - 1) / k, oh = (img.Height + k - 1) / k;
        var result = new byte[ow * oh * 3];
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                int r = 0, g = 0, b = 0, n = 0;
                for (int y = oy * k; y < Math.Min(img.Height, (oy + 1) * k); y++)
                {
                    for (int x = ox * k; x < Math.Min(img.Width, (ox + 1) * k); x++)
                    {
                        var p = img.GetPixel(x, y);
                        (r, g, b, n) = (r + p.R, g + p.G, b + p.B, n + 1);
                    }
                }

                int i = ((oy * ow) + ox) * 3;
                (result[i], result[i + 1], result[i + 2]) = ((byte)((r + (n / 2)) / n), (byte)((g + (n / 2)) / n), (byte)((b + (n / 2)) / n));
            }
        }

        return result;
    }
}

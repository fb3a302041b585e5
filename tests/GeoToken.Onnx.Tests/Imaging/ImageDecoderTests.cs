using GeoToken.Imaging;
using GeoToken.Onnx.Tests.Support;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Imaging;

public sealed class ImageDecoderTests
{
    private const string PillowDump = """
import sys, numpy as np
from PIL import Image, ImageOps
mode = sys.argv[1]
for src, dst in zip(sys.argv[2::2], sys.argv[3::2]):
    im = Image.open(src)
    if mode == "exif_transpose":
        im = ImageOps.exif_transpose(im)
    a = np.asarray(im.convert("RGB"))
    with open(dst, "wb") as f:
        f.write(np.array(a.shape[:2], dtype="<i4").tobytes())
        f.write(a.tobytes())
""";

    /// <summary>Decodes each file with Pillow (optionally through <c>ImageOps.exif_transpose</c>) and returns (height, width, RGB bytes).</summary>
    private static List<(int H, int W, byte[] Rgb)> DecodeWithPillow(IReadOnlyList<string> files, string mode, TempDir dir)
    {
        var args = new List<string> { mode };
        for (int i = 0; i < files.Count; i++)
        {
            args.Add(files[i]);
            args.Add(dir.File($"pil{i}.raw"));
        }

        Peer.RunPython(PillowDump, [.. args]);
        return [.. files.Select((_, i) =>
        {
            byte[] b = File.ReadAllBytes(dir.File($"pil{i}.raw"));
            return (BitConverter.ToInt32(b, 0), BitConverter.ToInt32(b, 4), b[8..]);
        })];
    }

    [Fact]
    public void Real_photos_and_CMYK_JPEGs_decode_exactly_as_Pillow_does()
    {
        using var dir = new TempDir();
        string[] files = [.. TestData.Photos, TestData.CmykJpeg, TestData.CmykPhoto];
        var pil = DecodeWithPillow(files, "plain", dir);
        for (int i = 0; i < files.Length; i++)
        {
            var ours = ImageDecoder.Decode(files[i]);
            Assert.Equal((pil[i].W, pil[i].H), (ours.Width, ours.Height));
            Assert.True(pil[i].Rgb.AsSpan().SequenceEqual(ours.Pixels), $"{Path.GetFileName(files[i])} differs from Pillow's decoding");
        }

        Assert.Equal((640, 480), (ImageDecoder.Decode(TestData.Photos[0]).Width, ImageDecoder.Decode(TestData.Photos[0]).Height));
    }

    [Fact]
    public void CMYK_JPEG_is_a_real_four_component_Adobe_JPEG_and_decodes_to_the_expected_colours()
    {
        byte[] bytes = File.ReadAllBytes(TestData.CmykJpeg);
        Assert.Equal(4, Fixtures.JpegComponents(bytes));
        Assert.True(Fixtures.HasAdobeMarker(bytes));
        var img = ImageDecoder.Decode(TestData.CmykJpeg);
        Assert.Equal((64, 48), (img.Width, img.Height));

        // Quadrant centres; CMYK values in make_cmyk_fixtures.py, RGB = (255 − C)(255 − K)/255 etc.
        AssertNear((255, 0, 0), img.GetPixel(16, 12), 3);
        AssertNear((0, 255, 0), img.GetPixel(48, 12), 3);
        AssertNear((127, 127, 127), img.GetPixel(16, 36), 3);
        AssertNear((191, 95, 0), img.GetPixel(48, 36), 3);

        // The CMYK copy of a real photo is the photo (Pillow's RGB→CMYK is invertible when K = 0).
        var cmyk = ImageDecoder.Decode(TestData.CmykPhoto);
        Assert.Equal(4, Fixtures.JpegComponents(File.ReadAllBytes(TestData.CmykPhoto)));
        Assert.Equal((320, 240), (cmyk.Width, cmyk.Height));
    }

    [Fact]
    public void Greyscale_JPEG_decodes_to_equal_RGB_channels()
    {
        byte[] jpeg = Fixtures.EncodeGreyJpeg(80, 60, (x, y) => (byte)(x * 3));
        Assert.Equal(1, Fixtures.JpegComponents(jpeg));
        var img = ImageDecoder.Decode(jpeg, "grey.jpg");
        Assert.Equal((80, 60), (img.Width, img.Height));
        for (int y = 0; y < 60; y++)
        {
            for (int x = 0; x < 80; x++)
            {
                var (r, g, b) = img.GetPixel(x, y);
                Assert.True(r == g && g == b, $"pixel ({x}, {y}) is ({r}, {g}, {b})");
                Assert.InRange(r, (x * 3) - 4, (x * 3) + 4);
            }
        }
    }

    [Fact]
    public void PNG_lossless_WebP_and_BMP_decode_exactly_and_alpha_is_dropped()
    {
        var pattern = Fixtures.Pattern(37, 23);
        Assert.True(ImageDecoder.Decode(Fixtures.Encode(pattern, SKEncodedImageFormat.Png), "p.png").Pixels.SequenceEqual(pattern.Pixels));

        using (var bmp = Fixtures.ToBitmap(pattern))
        using (var pixmap = bmp.PeekPixels())
        using (var webp = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100)))
        {
            Assert.Equal(ImageFileFormat.WebP, ImageFormatSniffer.Sniff(webp.AsSpan()));
            Assert.True(ImageDecoder.Decode(webp.AsSpan(), "p.webp").Pixels.SequenceEqual(pattern.Pixels));
        }

        byte[] lossy = Fixtures.Encode(pattern, SKEncodedImageFormat.Webp, 90);
        Assert.Equal((37, 23), (ImageDecoder.Decode(lossy, "lossy.webp").Width, ImageDecoder.Decode(lossy, "lossy.webp").Height));

        byte[] bmpFile = Fixtures.Bmp24(pattern);
        Assert.Equal(ImageFileFormat.Bmp, ImageFormatSniffer.Sniff(bmpFile));
        Assert.True(ImageDecoder.Decode(bmpFile, "p.bmp").Pixels.SequenceEqual(pattern.Pixels));

        // A half-transparent RGBA PNG: like Pillow's convert("RGB"), the colour stays and alpha goes.
        using var rgba = new SKBitmap(new SKImageInfo(4, 4, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        rgba.Erase(new SKColor(200, 100, 50, 128));
        using var png = rgba.Encode(SKEncodedImageFormat.Png, 100);
        Assert.Equal(((byte)200, (byte)100, (byte)50), ImageDecoder.Decode(png.AsSpan(), "alpha.png").GetPixel(2, 2));
    }

    [Fact]
    public void GIF_first_frame_decodes_as_Pillow_decodes_it()
    {
        using var dir = new TempDir();
        string gif = dir.File("p.gif");
        File.WriteAllBytes(dir.File("p.png"), Fixtures.Encode(Fixtures.Pattern(41, 29), SKEncodedImageFormat.Png));
        Peer.RunPython("import sys\nfrom PIL import Image\nImage.open(sys.argv[1]).convert('RGB').quantize(64).save(sys.argv[2])", dir.File("p.png"), gif);
        Assert.Equal(ImageFileFormat.Gif, ImageFormatSniffer.Sniff(gif));
        var pil = DecodeWithPillow([gif], "plain", dir)[0];
        Assert.True(ImageDecoder.Decode(gif).Pixels.SequenceEqual(pil.Rgb));
    }

    /// <summary>The EXIF table (0th row side, 0th column side) for orientations 1–8; 'T','B','L','R'.</summary>
    private static readonly (char Row0, char Col0)[] ExifSides =
        [default, ('T', 'L'), ('T', 'R'), ('B', 'R'), ('B', 'L'), ('L', 'T'), ('R', 'T'), ('R', 'B'), ('L', 'B')];

    private static readonly Dictionary<(char V, char H), (byte, byte, byte)> Corners = new()
    {
        [('T', 'L')] = (220, 30, 30), [('T', 'R')] = (30, 200, 40),
        [('B', 'L')] = (30, 40, 220), [('B', 'R')] = (240, 240, 240),
    };

    private static char Opposite(char side) => side switch { 'T' => 'B', 'B' => 'T', 'L' => 'R', _ => 'L' };

    /// <summary>The visual corner where a stored corner ends up, from the EXIF table alone.</summary>
    private static (byte, byte, byte) VisualColour(int orientation, bool lastRow, bool lastCol)
    {
        var (row0, col0) = ExifSides[orientation];
        char a = lastRow ? Opposite(row0) : row0, b = lastCol ? Opposite(col0) : col0;
        char v = a is 'T' or 'B' ? a : b, h = a is 'L' or 'R' ? a : b;
        return Corners[(v, h)];
    }

    /// <summary>A stored image (quadrants) that displays as the canonical 64 × 32 picture under <paramref name="orientation"/>.</summary>
    private static RgbImage Stored(int orientation)
    {
        bool swap = orientation >= 5;
        int w = swap ? 32 : 64, h = swap ? 64 : 32;
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var (r, g, b) = VisualColour(orientation, y >= h / 2, x >= w / 2);
                int i = ((y * w) + x) * 3;
                (px[i], px[i + 1], px[i + 2]) = (r, g, b);
            }
        }

        return new RgbImage(w, h, px);
    }

    [Fact]
    public void All_eight_EXIF_orientations_come_out_upright_and_agree_with_Pillow_exif_transpose()
    {
        using var dir = new TempDir();
        var files = new List<string>();
        for (int o = 1; o <= 8; o++)
        {
            string path = dir.File($"o{o}.jpg");
            File.WriteAllBytes(path, Fixtures.WithExifOrientation(Fixtures.Encode(Stored(o), SKEncodedImageFormat.Jpeg, 95), o));
            files.Add(path);
        }

        // The fixture writer is right: exiftool reads back the orientation we wrote.
        string tags = Peer.RunExiftool(["-n", "-T", "-Orientation", .. files]);
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7", "8"], tags.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var pil = DecodeWithPillow(files, "exif_transpose", dir);
        for (int o = 1; o <= 8; o++)
        {
            var img = ImageDecoder.Decode(files[o - 1]);
            Assert.Equal((64, 32), (img.Width, img.Height));
            AssertNear(Corners[('T', 'L')], img.GetPixel(8, 8), 12, $"orientation {o}, top-left");
            AssertNear(Corners[('T', 'R')], img.GetPixel(56, 8), 12, $"orientation {o}, top-right");
            AssertNear(Corners[('B', 'L')], img.GetPixel(8, 24), 12, $"orientation {o}, bottom-left");
            AssertNear(Corners[('B', 'R')], img.GetPixel(56, 24), 12, $"orientation {o}, bottom-right");
            Assert.True(img.Pixels.SequenceEqual(pil[o - 1].Rgb), $"orientation {o} differs from Pillow's exif_transpose");

            var raw = ImageDecoder.Decode(files[o - 1], new ImageDecodeOptions { ApplyExifOrientation = false });
            Assert.Equal(o >= 5 ? (32, 64) : (64, 32), (raw.Width, raw.Height));
        }
    }

    [Fact]
    public void Reduced_scale_JPEG_decoding_keeps_the_shorter_side_above_the_minimum()
    {
        var img = ImageDecoder.Decode(TestData.Photos[0], new ImageDecodeOptions { MinimumShorterSide = 100 });
        Assert.Equal((160, 120), (img.Width, img.Height)); // 2/8 of 640 × 480; 1/8 would be 60 high
        var full = ImageDecoder.Decode(TestData.Photos[0], new ImageDecodeOptions { MinimumShorterSide = 480 });
        Assert.Equal((640, 480), (full.Width, full.Height));
    }

    [Fact]
    public void Unreadable_empty_non_image_truncated_corrupt_and_unsupported_files_fail_with_the_file_name()
    {
        using var dir = new TempDir();
        byte[] photo = File.ReadAllBytes(TestData.Photos[0]);
        var cases = new (string Name, byte[]? Bytes, string Expect)[]
        {
            ("missing.jpg", null, "cannot read the file"),
            ("empty.jpg", [], "empty"),
            ("notes.jpg", "just some text, not a photo\n"u8.ToArray(), "not an image"),
            ("truncated.jpg", photo[..(photo.Length / 2)], "truncated"),
            ("header-only.jpg", photo[..200], "corrupt or truncated"),
            ("garbled.jpg", [.. photo[..(photo.Length / 3)], .. Enumerable.Repeat((byte)0xFF, 64), .. Enumerable.Range(0, 20000).Select(i => (byte)(i * 7919 >> 3))], "no end-of-image marker"),
            // The tail of the file zero-filled (a crashed copy). The EXIF thumbnail's own end marker must not count.
            ("zero-tail.jpg", [.. photo[..(photo.Length / 2)], .. new byte[photo.Length - (photo.Length / 2)]], "no end-of-image marker"),
            ("phone.heic", [0, 0, 0, 0x18, .. "ftypheic"u8.ToArray(), 0, 0, 0, 0, .. "mif1heic"u8.ToArray(), .. new byte[64]], "Heif image, which this decoder"),
        };
        foreach (var (name, bytes, expect) in cases)
        {
            string path = dir.File(name);
            if (bytes is not null) File.WriteAllBytes(path, bytes);
            var e = Record.Exception(() => ImageDecoder.Decode(path)) as ImageDecodeException ?? throw new Xunit.Sdk.XunitException($"{name}: no ImageDecodeException");
            Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
            Assert.Contains(expect, e.Message, StringComparison.Ordinal);
            Assert.Equal(path, e.SourceName);
        }

        var big = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(TestData.Photos[0], new ImageDecodeOptions { MaxPixels = 640 * 479 }));
        Assert.Contains("its header claims 640×480 pixels (0.3 MP), more than the limit of 306560", big.Message, StringComparison.Ordinal);
    }

    private static void AssertNear((byte R, byte G, byte B) expected, (byte R, byte G, byte B) actual, int tolerance, string? what = null)
    {
        int d = Math.Max(Math.Abs(expected.R - actual.R), Math.Max(Math.Abs(expected.G - actual.G), Math.Abs(expected.B - actual.B)));
        Assert.True(d <= tolerance, $"{what}: expected ~{expected}, got {actual}");
    }
}

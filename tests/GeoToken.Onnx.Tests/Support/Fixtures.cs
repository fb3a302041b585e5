using GeoToken.Imaging;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Support;

/// <summary>Images generated with SkiaSharp for the tests.</summary>
internal static class Fixtures
{
    /// <summary>A deterministic RGB test pattern: gradients, a checkerboard and pseudo-random noise.</summary>
    public static RgbImage Pattern(int width, int height, int seed = 1)
    {
        var px = new byte[width * height * 3];
        uint state = (uint)seed * 2654435761u + 1;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                state = state * 1664525u + 1013904223u;
                int i = ((y * width) + x) * 3;
                bool check = ((x / 7) + (y / 5)) % 2 == 0;
                px[i] = (byte)((x * 255 / Math.Max(1, width - 1) + (check ? 40 : 0)) & 0xFF);
                px[i + 1] = (byte)(y * 255 / Math.Max(1, height - 1));
                px[i + 2] = (byte)(state >> 24);
            }
        }

        return new RgbImage(width, height, px);
    }

    /// <summary>Solid colour.</summary>
    public static RgbImage Solid(int width, int height, byte r, byte g, byte b)
    {
        var px = new byte[width * height * 3];
        for (int i = 0; i < px.Length; i += 3)
        {
            px[i] = r;
            px[i + 1] = g;
            px[i + 2] = b;
        }

        return new RgbImage(width, height, px);
    }

    /// <summary>Encodes an RGB image with Skia (opaque RGBA surface).</summary>
    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality = 95)
    {
        using var bmp = ToBitmap(image);
        using var data = bmp.Encode(format, quality) ?? throw new InvalidOperationException($"Skia cannot encode {format}.");
        return data.ToArray();
    }

    /// <summary>Encodes a single-channel (Gray8) JPEG from the luma of <paramref name="image"/>'s red channel.</summary>
    public static byte[] EncodeGreyJpeg(int width, int height, Func<int, int, byte> value, int quality = 95)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte v = value(x, y);
                bmp.SetPixel(x, y, new SKColor(v, v, v));
            }
        }

        using var data = bmp.Encode(SKEncodedImageFormat.Jpeg, quality) ?? throw new InvalidOperationException("Skia cannot encode a Gray8 JPEG.");
        return data.ToArray();
    }

    public static SKBitmap ToBitmap(RgbImage image)
    {
        var bmp = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[image.Width * image.Height * 4];
        ReadOnlySpan<byte> src = image.Pixels;
        for (int i = 0, j = 0; j < src.Length; i += 4, j += 3)
        {
            rgba[i] = src[j];
            rgba[i + 1] = src[j + 1];
            rgba[i + 2] = src[j + 2];
            rgba[i + 3] = 255;
        }

        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bmp.GetPixels(), rgba.Length);
        return bmp;
    }

    /// <summary>
    /// Inserts an EXIF APP1 segment holding only IFD0 with the Orientation tag (0x0112, SHORT) right
    /// after the JPEG's SOI marker. Big-endian ("MM") TIFF header, per EXIF 2.32 §4.5.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new ArgumentException("Not a JPEG.", nameof(jpeg));
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // header, IFD0 at offset 8
            0x00, 0x01,                                              // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,          // tag 0x0112, type SHORT, count 1
            0x00, (byte)orientation, 0x00, 0x00,                     // value, left-justified
            0x00, 0x00, 0x00, 0x00,                                  // no next IFD
        ];
        int segLength = 2 + 6 + tiff.Length;
        var app1 = new List<byte> { 0xFF, 0xE1, (byte)(segLength >> 8), (byte)segLength };
        app1.AddRange("Exif\0\0"u8.ToArray());
        app1.AddRange(tiff);
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    /// <summary>The number of colour components in a JPEG's frame header (SOFn), read by walking its markers.</summary>
    public static int JpegComponents(byte[] jpeg)
    {
        int i = 2;
        while (i + 4 <= jpeg.Length)
        {
            if (jpeg[i] != 0xFF) throw new InvalidDataException($"Expected a marker at byte {i}.");
            byte marker = jpeg[i + 1];
            int len = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return jpeg[i + 2 + 7];
            }

            i += 2 + len;
        }

        throw new InvalidDataException("No SOF marker found.");
    }

    /// <summary>Whether the JPEG has an Adobe APP14 segment (written with CMYK/YCCK JPEGs).</summary>
    public static bool HasAdobeMarker(byte[] jpeg)
    {
        int i = 2;
        while (i + 4 <= jpeg.Length && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA)
        {
            int len = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (jpeg[i + 1] == 0xEE && jpeg.AsSpan(i + 4).StartsWith("Adobe"u8)) return true;
            i += 2 + len;
        }

        return false;
    }

    /// <summary>A bottom-up 24-bit BMP (BITMAPINFOHEADER), written by hand.</summary>
    public static byte[] Bmp24(RgbImage img)
    {
        int stride = ((img.Width * 3) + 3) & ~3;
        int size = 54 + (stride * img.Height);
        var b = new byte[size];
        "BM"u8.CopyTo(b);
        BitConverter.TryWriteBytes(b.AsSpan(2), size);
        BitConverter.TryWriteBytes(b.AsSpan(10), 54);
        BitConverter.TryWriteBytes(b.AsSpan(14), 40);
        BitConverter.TryWriteBytes(b.AsSpan(18), img.Width);
        BitConverter.TryWriteBytes(b.AsSpan(22), img.Height);
        BitConverter.TryWriteBytes(b.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(b.AsSpan(28), (short)24);
        BitConverter.TryWriteBytes(b.AsSpan(34), stride * img.Height);
        for (int y = 0; y < img.Height; y++)
        {
            int row = 54 + ((img.Height - 1 - y) * stride);
            for (int x = 0; x < img.Width; x++)
            {
                var (r, g, bl) = img.GetPixel(x, y);
                (b[row + (x * 3)], b[row + (x * 3) + 1], b[row + (x * 3) + 2]) = (bl, g, r);
            }
        }

        return b;
    }
}

using System.Buffers;
using SkiaSharp;

namespace GeoToken.Imaging;

/// <summary>
/// Decodes an image row by row at full width and averages k × k blocks into RGB, so an image larger
/// than the pixel budget is never held at full size (for codecs without scaled decoding: PNG, BMP, …).
/// </summary>
internal static class BoxDownsampler
{
    /// <summary>Decodes <paramref name="codec"/>'s image into <paramref name="size"/> (its <see cref="DecodeSize.BoxFactor"/> &gt; 1).</summary>
    /// <returns>The RGB pixels, or the failing Skia result.</returns>
    public static (byte[]? Rgb, SKCodecResult Result) Decode(SKCodec codec, DecodeSize size)
    {
        int w = codec.Info.Width, h = codec.Info.Height, k = size.BoxFactor, ow = size.Width, oh = size.Height;
        var info = new SKImageInfo(w, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var start = codec.StartScanlineDecode(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (start != SKCodecResult.Success) return (null, start);
        if (codec.ScanlineOrder is not (SKCodecScanlineOrder.TopDown or SKCodecScanlineOrder.BottomUp)) return (null, SKCodecResult.Unimplemented);

        var rgb = new byte[(long)ow * oh * 3];
        var sums = new ulong[ow * 3];
        byte[] row = ArrayPool<byte>.Shared.Rent(info.RowBytes);
        try
        {
            int band = -1;
            for (int i = 0; i < h; i++)
            {
                int y = codec.NextScanline;
                int got;
                unsafe
                {
                    fixed (byte* p = row)
                    {
                        got = codec.GetScanlines((IntPtr)p, 1, info.RowBytes);
                    }
                }

                if (got != 1) return (null, SKCodecResult.IncompleteInput);
                if (y / k != band)
                {
                    if (band >= 0) Flush(sums, rgb, band, w, h, k, ow);
                    band = y / k;
                }

                for (int x = 0; x < w; x++)
                {
                    int o = x / k * 3, s = x * 4;
                    sums[o] += row[s];
                    sums[o + 1] += row[s + 1];
                    sums[o + 2] += row[s + 2];
                }
            }

            Flush(sums, rgb, band, w, h, k, ow);
            return (rgb, SKCodecResult.Success);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(row);
        }
    }

    /// <summary>Writes the averages of output row <paramref name="band"/> (edge blocks average over the pixels they have) and clears the sums.</summary>
    private static void Flush(ulong[] sums, byte[] rgb, int band, int w, int h, int k, int ow)
    {
        int rows = Math.Min(k, h - (band * k));
        long offset = (long)band * ow * 3;
        for (int ox = 0; ox < ow; ox++)
        {
            ulong n = (ulong)Math.Min(k, w - (ox * k)) * (ulong)rows;
            for (int c = 0; c < 3; c++)
            {
                int j = (ox * 3) + c;
                rgb[offset + j] = (byte)((sums[j] + (n / 2)) / n);
                sums[j] = 0;
            }
        }
    }
}

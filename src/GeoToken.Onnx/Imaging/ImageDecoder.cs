using System.Buffers;
using System.Globalization;
using SkiaSharp;

namespace GeoToken.Imaging;

/// <summary>
/// Decodes image files with SkiaSharp (JPEG — baseline, progressive, greyscale and CMYK — PNG, WebP,
/// GIF's first frame, BMP, ICO) into 8-bit <see cref="RgbImage"/>s, upright per the EXIF orientation.
/// </summary>
/// <remarks>
/// <para>Colour handling matches Pillow's <c>Image.convert("RGB")</c>, which CLIP-style pipelines
/// use: greyscale is replicated into R = G = B; alpha is dropped (the colour values are kept, not
/// composited over a background); embedded ICC profiles are ignored; CMYK JPEGs are converted with
/// the naive multiplicative formula (R = (255 − C)(255 − K)/255, Adobe's inverted storage). For
/// JPEG, PNG and CMYK JPEG the result is byte-identical to Pillow 9.4's decoding (tested).</para>
/// <para>Every failure throws <see cref="ImageDecodeException"/> naming the file: unreadable, empty,
/// not an image, an undecodable format (HEIC, AVIF, TIFF), truncated data, a JPEG whose tail is
/// lost or overwritten (no end-of-image marker after the scan), a header claiming more than
/// <see cref="ImageDecodeOptions.MaxPixels"/> (checked before any pixel is allocated). Images larger than
/// <see cref="ImageDecodeOptions.FullDecodeMaxPixels"/> are decoded at a reduced scale. Like every
/// decoder, it cannot notice bit flips inside intact entropy-coded data: those decode with glitches.</para>
/// <para>Thread-safe: every call works on its own codec.</para>
/// </remarks>
public static class ImageDecoder
{
    /// <summary>Decodes the image file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">The file cannot be read or decoded; the message names it.</exception>
    public static RgbImage Decode(string path, ImageDecodeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, $"cannot read the file: {e.Message}", e);
        }

        return Decode(bytes, path, options);
    }

    /// <summary>Decodes an image read from <paramref name="stream"/> (to its end); <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="ImageDecodeException">The data cannot be decoded; the message names <paramref name="sourceName"/>.</exception>
    public static RgbImage Decode(Stream stream, string sourceName, ImageDecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes;
        try
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            bytes = ms.ToArray();
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(sourceName, $"cannot read the stream: {e.Message}", e);
        }

        return Decode(bytes, sourceName, options);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="ImageDecodeException">The data cannot be decoded; the message names <paramref name="sourceName"/>.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string sourceName, ImageDecodeOptions? options = null)
    {
        options ??= ImageDecodeOptions.Default;
        sourceName ??= "(stream)";
        Validate(options);
        if (data.IsEmpty) throw new ImageDecodeException(sourceName, "the file is empty (0 bytes), not an image.");

        using var skData = SKData.CreateCopy(data);
        var stream = new SKMemoryStream(skData);
        using var codec = SKCodec.Create(stream, out SKCodecResult createResult); // takes ownership of the stream
        if (codec is null)
        {
            stream.Dispose();
            ImageFileFormat? sniffed = ImageFormatSniffer.Sniff(data);
            string what = sniffed switch
            {
                null => "not an image (its first bytes match no known image format)",
                { } f when !ImageFormatSniffer.IsDecodable(f) => $"a {f} image, which this decoder (SkiaSharp) cannot read; convert it to JPEG or PNG",
                { } f => $"looks like {f} but its header is corrupt or truncated",
            };
            throw new ImageDecodeException(sourceName, $"{what} (Skia: {createResult}).");
        }

        SKImageInfo info = codec.Info;
        DecodeSize size = DecodeSize.Choose(codec, options, sourceName);
        int w = size.Width, h = size.Height;
        SKCodecResult result;
        byte[] rgb;
        if (size.BoxFactor > 1)
        {
            (byte[]? boxed, result) = BoxDownsampler.Decode(codec, size);
            if (result == SKCodecResult.Unimplemented)
            {
                throw new ImageDecodeException(sourceName, string.Create(CultureInfo.InvariantCulture, $"its header claims {info.Width}×{info.Height} pixels, more than ImageDecodeOptions.FullDecodeMaxPixels ({options.FullDecodeMaxPixels}), and SkiaSharp cannot decode {codec.EncodedFormat} images at a reduced scale or row by row; refused before decoding (raise FullDecodeMaxPixels to decode it whole)."));
            }

            ThrowIfFailed(result, codec, sourceName);
            rgb = boxed!;
        }
        else
        {
            var dstInfo = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            int rgbaLength = checked(w * h * 4);
            byte[] rgba = ArrayPool<byte>.Shared.Rent(rgbaLength);
            try
            {
                unsafe
                {
                    fixed (byte* p = rgba)
                    {
                        result = codec.GetPixels(dstInfo, (IntPtr)p);
                    }
                }

                ThrowIfFailed(result, codec, sourceName);
                rgb = RgbaToRgb(rgba.AsSpan(0, rgbaLength));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rgba);
            }
        }

        if (codec.EncodedFormat == SKEncodedImageFormat.Jpeg && !JpegStructure.HasEndOfImageAfterScan(data))
        {
            throw new ImageDecodeException(sourceName, $"the JPEG data is corrupt or truncated: no end-of-image marker follows the image data ({info.Width}×{info.Height}).");
        }

        var image = new RgbImage(w, h, rgb);
        var origin = (ExifOrientation)(int)codec.EncodedOrigin;
        return options.ApplyExifOrientation && origin is > ExifOrientation.Normal and <= ExifOrientation.Rotate90CounterClockwise
            ? image.Orient(origin)
            : image;
    }

    private static void ThrowIfFailed(SKCodecResult result, SKCodec codec, string sourceName)
    {
        if (result == SKCodecResult.Success) return;
        string why = result switch
        {
            SKCodecResult.IncompleteInput => "the image data is truncated (the file ends before the image does)",
            SKCodecResult.ErrorInInput => "the image data is corrupt",
            SKCodecResult.InvalidInput => "the image data is invalid",
            _ => "the image could not be decoded",
        };
        throw new ImageDecodeException(sourceName, $"{why} (Skia: {result}, {codec.EncodedFormat} {codec.Info.Width}×{codec.Info.Height}).");
    }

    private static void Validate(ImageDecodeOptions options)
    {
        if (options.MaxPixels <= 0) throw new ArgumentException($"ImageDecodeOptions.MaxPixels must be positive; got {options.MaxPixels}.", nameof(options));
        if (options.FullDecodeMaxPixels <= 0) throw new ArgumentException($"ImageDecodeOptions.FullDecodeMaxPixels must be positive; got {options.FullDecodeMaxPixels}.", nameof(options));
        if (options.MinimumShorterSide <= 0) throw new ArgumentException($"ImageDecodeOptions.MinimumShorterSide must be positive; got {options.MinimumShorterSide}.", nameof(options));
        if (options.LargeImageShorterSide <= 0) throw new ArgumentException($"ImageDecodeOptions.LargeImageShorterSide must be positive; got {options.LargeImageShorterSide}.", nameof(options));
    }

    private static byte[] RgbaToRgb(ReadOnlySpan<byte> rgba)
    {
        var rgb = GC.AllocateUninitializedArray<byte>(rgba.Length / 4 * 3);
        for (int i = 0, j = 0; i < rgba.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }

        return rgb;
    }
}

namespace GeoToken.Imaging;

/// <summary>Recognises image files from their first bytes, whatever their extension says.</summary>
public static class ImageFormatSniffer
{
    /// <summary>How many leading bytes <see cref="Sniff(ReadOnlySpan{byte})"/> looks at.</summary>
    public const int HeaderLength = 32;

    /// <summary>The formats <c>ImageDecoder</c> (GeoToken.Onnx) can decode (SkiaSharp's built-in codecs).</summary>
    public static bool IsDecodable(ImageFileFormat format) =>
        format is ImageFileFormat.Jpeg or ImageFileFormat.Png or ImageFileFormat.WebP or ImageFileFormat.Gif or ImageFileFormat.Bmp;

    /// <summary>The format whose signature starts <paramref name="header"/>, or <see langword="null"/> if none matches.</summary>
    public static ImageFileFormat? Sniff(ReadOnlySpan<byte> header)
    {
        if (header.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return ImageFileFormat.Jpeg;
        if (header.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])) return ImageFileFormat.Png;
        if (header.Length >= 12 && header.StartsWith("RIFF"u8) && header[8..12].SequenceEqual("WEBP"u8)) return ImageFileFormat.WebP;
        if (header.StartsWith("GIF87a"u8) || header.StartsWith("GIF89a"u8)) return ImageFileFormat.Gif;
        if (header.Length >= 14 && header.StartsWith("BM"u8)) return ImageFileFormat.Bmp;
        if (header.StartsWith("II*\0"u8) || header.StartsWith("MM\0*"u8)) return ImageFileFormat.Tiff;
        if (header.Length >= 12 && header[4..8].SequenceEqual("ftyp"u8))
        {
            ReadOnlySpan<byte> brand = header[8..12];
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8)) return ImageFileFormat.Avif;
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("hevc"u8) ||
                brand.SequenceEqual("hevx"u8) || brand.SequenceEqual("heim"u8) || brand.SequenceEqual("heis"u8) ||
                brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8))
            {
                return ImageFileFormat.Heif;
            }
        }

        return null;
    }

    /// <summary>The IANA media type of <paramref name="format"/> (e.g. <c>image/jpeg</c>).</summary>
    public static string MediaType(ImageFileFormat format) => format switch
    {
        ImageFileFormat.Jpeg => "image/jpeg",
        ImageFileFormat.Png => "image/png",
        ImageFileFormat.WebP => "image/webp",
        ImageFileFormat.Gif => "image/gif",
        ImageFileFormat.Bmp => "image/bmp",
        ImageFileFormat.Heif => "image/heif",
        ImageFileFormat.Avif => "image/avif",
        ImageFileFormat.Tiff => "image/tiff",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not an image file format."),
    };

    /// <summary>Reads the first <see cref="HeaderLength"/> bytes of <paramref name="path"/> and sniffs them.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ImageFileFormat? Sniff(string path)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        int n = fs.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        return Sniff(header[..n]);
    }
}

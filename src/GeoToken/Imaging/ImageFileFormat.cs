namespace GeoToken.Imaging;

/// <summary>An image container recognised from a file's first bytes (its "magic number").</summary>
public enum ImageFileFormat
{
    /// <summary>JPEG / JFIF / EXIF (<c>FF D8 FF</c>).</summary>
    Jpeg,

    /// <summary>PNG (<c>89 'PNG' 0D 0A 1A 0A</c>).</summary>
    Png,

    /// <summary>WebP (<c>'RIFF' size 'WEBP'</c>).</summary>
    WebP,

    /// <summary>GIF (<c>'GIF87a'</c> or <c>'GIF89a'</c>).</summary>
    Gif,

    /// <summary>Windows bitmap (<c>'BM'</c>).</summary>
    Bmp,

    /// <summary>HEIF / HEIC (ISO-BMFF <c>ftyp</c> with a HEIF brand). Not decodable by SkiaSharp on Linux.</summary>
    Heif,

    /// <summary>AVIF (ISO-BMFF <c>ftyp</c> brand <c>avif</c>/<c>avis</c>). Not decodable by SkiaSharp 2.88.</summary>
    Avif,

    /// <summary>TIFF and TIFF-based camera raw files (<c>'II*\0'</c> or <c>'MM\0*'</c>). Not decodable by SkiaSharp.</summary>
    Tiff,
}

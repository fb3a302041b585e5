namespace GeoToken.Imaging;

/// <summary>How <see cref="ImageDecoder"/> turns a file into an <see cref="RgbImage"/>.</summary>
public sealed record ImageDecodeOptions
{
    /// <summary>The defaults: EXIF orientation applied, full-resolution decoding, up to 178,956,970 pixels.</summary>
    public static ImageDecodeOptions Default { get; } = new();

    /// <summary>
    /// Rotate/flip the pixels as the EXIF <c>Orientation</c> tag says, so the image is upright as a
    /// viewer shows it (like Pillow's <c>ImageOps.exif_transpose</c>). Default <see langword="true"/>.
    /// Note that plain <c>PIL.Image.open</c> (used by CLIP and GeoCLIP) does <em>not</em> apply it.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>
    /// When set, JPEGs may be decoded at a reduced scale (libjpeg DCT scaling, 1/8 … 7/8) as long as
    /// the shorter side stays at least this many pixels: several times faster for camera photos that
    /// are resized to a few hundred pixels anyway, but the pixels then differ slightly from a full
    /// decode followed by resizing. Default <see langword="null"/>: always decode at full resolution.
    /// </summary>
    public int? MinimumShorterSide { get; init; }

    /// <summary>
    /// Images with more pixels than this are refused (decompression bombs). Default 178,956,970
    /// (twice Pillow's warning limit, where Pillow refuses too).
    /// </summary>
    public long MaxPixels { get; init; } = 178_956_970;
}

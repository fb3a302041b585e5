namespace GeoToken.Imaging;

/// <summary>How <see cref="ImageDecoder"/> turns a file into an <see cref="RgbImage"/>.</summary>
/// <remarks>
/// Memory is bounded before any pixel is allocated: the dimensions an image's header claims are
/// checked against <see cref="MaxPixels"/> (refused beyond it) and <see cref="FullDecodeMaxPixels"/>
/// (decoded at a reduced scale beyond it), so a small file claiming a huge size (a decompression
/// bomb) costs at most about <c>FullDecodeMaxPixels × 10</c> bytes while it is decoded.
/// Measured on a 153 KB JPEG claiming 13,370 × 13,370: 1.35 GB peak before, refused at the header now.
/// </remarks>
public sealed record ImageDecodeOptions
{
    /// <summary>The defaults: EXIF orientation applied, full resolution up to 25 MP, reduced beyond, refused beyond 100 MP.</summary>
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
    /// decode followed by resizing. Also the floor of the reduced decoding of images larger than
    /// <see cref="FullDecodeMaxPixels"/>. Default <see langword="null"/>: images within
    /// <see cref="FullDecodeMaxPixels"/> are decoded at full resolution.
    /// </summary>
    public int? MinimumShorterSide { get; init; }

    /// <summary>
    /// Images whose header claims more pixels than this are refused before anything is decoded
    /// (decompression bombs: a 150 KB JPEG can claim 13,370 × 13,370). The message names the source
    /// and its claimed size. Default 100,000,000 (100 MP, more than any camera but medium format).
    /// </summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>
    /// The pixel budget of a full-resolution decode. Larger images (up to <see cref="MaxPixels"/>)
    /// are decoded at a reduced scale instead: JPEG and WebP by their codecs' scaled decoding, BMP
    /// row by row with box averaging over k × k blocks; never more pixels than this budget are
    /// allocated. Formats SkiaSharp can neither scale nor decode row by row (PNG, GIF, ICO) are
    /// refused beyond the budget, with a message naming the source and its claimed size. Which scale: the smallest whose shorter side is at least
    /// <see cref="MinimumShorterSide"/> (or <see cref="LargeImageShorterSide"/>), else the largest
    /// within the budget. Default 25,000,000 (25 MP: a 6000 × 4000 camera photo still decodes exactly).
    /// </summary>
    public long FullDecodeMaxPixels { get; init; } = 25_000_000;

    /// <summary>
    /// For images larger than <see cref="FullDecodeMaxPixels"/> only: the shorter side the reduced
    /// decoding must keep when <see cref="MinimumShorterSide"/> is not set, typically the size the
    /// preprocessing resizes to (the <c>OnnxImageEncoder</c> sets it to its
    /// <c>ResizeShorterSide</c> when left unset). Default <see langword="null"/>: the largest scale
    /// within the budget.
    /// </summary>
    public int? LargeImageShorterSide { get; init; }
}

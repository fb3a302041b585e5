namespace GeoToken.Imaging;

/// <summary>
/// The EXIF <c>Orientation</c> tag (0x0112): how the stored pixels must be transformed to be
/// displayed upright. Values and meanings follow EXIF 2.32 §4.6.4 (TIFF 6.0).
/// </summary>
public enum ExifOrientation
{
    /// <summary>1: stored upright (0th row at the top, 0th column at the left).</summary>
    Normal = 1,

    /// <summary>2: mirrored left–right (0th row top, 0th column right).</summary>
    FlipHorizontal = 2,

    /// <summary>3: upside down (0th row bottom, 0th column right).</summary>
    Rotate180 = 3,

    /// <summary>4: mirrored top–bottom (0th row bottom, 0th column left).</summary>
    FlipVertical = 4,

    /// <summary>5: transposed (0th row left, 0th column top).</summary>
    Transpose = 5,

    /// <summary>6: must be rotated 90° clockwise to display (0th row right, 0th column top).</summary>
    Rotate90Clockwise = 6,

    /// <summary>7: transversed (0th row right, 0th column bottom).</summary>
    Transverse = 7,

    /// <summary>8: must be rotated 90° counter-clockwise to display (0th row left, 0th column bottom).</summary>
    Rotate90CounterClockwise = 8,
}

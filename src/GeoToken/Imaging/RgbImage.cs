namespace GeoToken.Imaging;

/// <summary>
/// A decoded 8-bit RGB image: <see cref="Width"/> × <see cref="Height"/> pixels, row-major, three
/// interleaved bytes per pixel (red, green, blue), no padding between rows.
/// </summary>
/// <remarks>
/// Images are immutable after construction (the constructor copies nothing when given an array, so
/// do not change that array afterwards). Produced by <c>ImageDecoder</c> (GeoToken.Onnx), consumed by the
/// preprocessing and the encoders; build one yourself to encode pixels from any other source.
/// </remarks>
public sealed class RgbImage
{
    private readonly byte[] _pixels;

    /// <summary>Wraps <paramref name="pixels"/> (not copied): <c>width × height × 3</c> bytes, RGB interleaved, row-major.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">The array length is not <c>width × height × 3</c>.</exception>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height * 3 != pixels.Length)
        {
            throw new ArgumentException($"A {width}×{height} RGB image needs {(long)width * height * 3} bytes; got {pixels.Length}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        _pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels: <c>Height</c> rows of <c>Width × 3</c> bytes (R, G, B).</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    internal byte[] PixelArray => _pixels;

    /// <summary>The (R, G, B) value of the pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"Pixel ({x}, {y}) is outside the {Width}×{Height} image.");
        }

        int i = ((y * Width) + x) * 3;
        return (_pixels[i], _pixels[i + 1], _pixels[i + 2]);
    }

    /// <summary>
    /// Returns the image as it should be displayed for the given EXIF orientation of its stored
    /// pixels (this image when <paramref name="orientation"/> is <see cref="ExifOrientation.Normal"/>).
    /// Orientations 5–8 swap width and height.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="orientation"/> is not 1–8.</exception>
    public RgbImage Orient(ExifOrientation orientation)
    {
        if (orientation == ExifOrientation.Normal) return this;
        if (orientation is < ExifOrientation.Normal or > ExifOrientation.Rotate90CounterClockwise)
        {
            throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation must be 1–8.");
        }

        int w = Width, h = Height;
        bool swap = orientation >= ExifOrientation.Transpose;
        int ow = swap ? h : w, oh = swap ? w : h;
        var dst = new byte[_pixels.Length];

        // For the output pixel (x, y), the stored pixel is at sx = ax + bx*x + cx*y, sy = ay + by*x + cy*y.
        (int ax, int bx, int cx, int ay, int by, int cy) = orientation switch
        {
            ExifOrientation.FlipHorizontal => (w - 1, -1, 0, 0, 0, 1),
            ExifOrientation.Rotate180 => (w - 1, -1, 0, h - 1, 0, -1),
            ExifOrientation.FlipVertical => (0, 1, 0, h - 1, 0, -1),
            ExifOrientation.Transpose => (0, 0, 1, 0, 1, 0),
            ExifOrientation.Rotate90Clockwise => (0, 0, 1, h - 1, -1, 0),
            ExifOrientation.Transverse => (w - 1, 0, -1, h - 1, -1, 0),
            _ => (w - 1, 0, -1, 0, 1, 0), // Rotate90CounterClockwise
        };

        ReadOnlySpan<byte> src = _pixels;
        for (int y = 0; y < oh; y++)
        {
            int sx = ax + (cx * y), sy = ay + (cy * y);
            int step = ((by * w) + bx) * 3;
            int s = ((sy * w) + sx) * 3;
            Span<byte> row = dst.AsSpan(y * ow * 3, ow * 3);
            for (int x = 0; x < row.Length; x += 3, s += step)
            {
                row[x] = src[s];
                row[x + 1] = src[s + 1];
                row[x + 2] = src[s + 2];
            }
        }

        return new RgbImage(ow, oh, dst);
    }
}

using GeoToken.Imaging;

namespace GeoToken.Preprocessing;

/// <summary>
/// Applies an <see cref="ImagePreprocessing"/> to images: resize, centre crop, normalise, lay out.
/// Immutable and thread-safe.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly float[] _lut; // [output channel][byte value]

    /// <summary>Creates a preprocessor for <paramref name="settings"/>.</summary>
    /// <exception cref="ArgumentException">A setting is invalid (see <see cref="ImagePreprocessing.Validate"/>).</exception>
    public ImagePreprocessor(ImagePreprocessing settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        _lut = new float[3 * 256];
        for (int oc = 0; oc < 3; oc++)
        {
            int colour = settings.ChannelOrder == ChannelOrder.Rgb ? oc : 2 - oc;
            float mean = settings.Mean[colour], std = settings.Std[colour];
            for (int v = 0; v < 256; v++)
            {
                // Same float32 operations as torchvision: ToTensor divides by 255, Normalize subtracts then divides.
                float x = settings.ScaleToUnitRange ? v / 255f : v;
                _lut[(oc * 256) + v] = (x - mean) / std;
            }
        }
    }

    /// <summary>The settings applied.</summary>
    public ImagePreprocessing Settings { get; }

    /// <summary>The size of a <paramref name="width"/> × <paramref name="height"/> image after the shorter-side resize.</summary>
    public (int Width, int Height) ResizedSize(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int s = Settings.ResizeShorterSide;
        if (width <= height)
        {
            return (s, (int)((double)s * height / width));
        }

        return ((int)((double)s * width / height), s);
    }

    /// <summary>
    /// The resized and centre-cropped 8-bit image (<see cref="ImagePreprocessing.CropWidth"/> ×
    /// <see cref="ImagePreprocessing.CropHeight"/>), before normalisation. Regions of a crop larger than
    /// the resized image are black.
    /// </summary>
    public RgbImage ResizeAndCrop(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int cw = Settings.CropWidth, ch = Settings.CropHeight;
        var crop = new byte[cw * ch * 3];
        ResizeAndCrop(image, crop);
        return new RgbImage(cw, ch, crop);
    }

    /// <summary>Preprocesses <paramref name="image"/> into a new array of <see cref="ImagePreprocessing.ValuesPerImage"/> floats.</summary>
    public float[] Process(RgbImage image)
    {
        var result = new float[Settings.ValuesPerImage];
        Process(image, result);
        return result;
    }

    /// <summary>
    /// Preprocesses <paramref name="image"/> into the first <see cref="ImagePreprocessing.ValuesPerImage"/>
    /// floats of <paramref name="destination"/> (one image's slice of a batch tensor), in the configured
    /// layout and channel order.
    /// </summary>
    public void Process(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        int cw = Settings.CropWidth, ch = Settings.CropHeight, plane = cw * ch;
        if (destination.Length < 3 * plane)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; one {cw}×{ch} image needs {3 * plane}.", nameof(destination));
        }

        byte[] crop = new byte[plane * 3];
        ResizeAndCrop(image, crop);
        ReadOnlySpan<float> l0 = _lut.AsSpan(0, 256), l1 = _lut.AsSpan(256, 256), l2 = _lut.AsSpan(512, 256);
        bool bgr = Settings.ChannelOrder == ChannelOrder.Bgr;
        int c0 = bgr ? 2 : 0, c2 = bgr ? 0 : 2;
        if (Settings.Layout == TensorLayout.Nchw)
        {
            Span<float> d0 = destination[..plane], d1 = destination.Slice(plane, plane), d2 = destination.Slice(2 * plane, plane);
            for (int p = 0, i = 0; p < plane; p++, i += 3)
            {
                d0[p] = l0[crop[i + c0]];
                d1[p] = l1[crop[i + 1]];
                d2[p] = l2[crop[i + c2]];
            }
        }
        else
        {
            for (int i = 0; i < 3 * plane; i += 3)
            {
                destination[i] = l0[crop[i + c0]];
                destination[i + 1] = l1[crop[i + 1]];
                destination[i + 2] = l2[crop[i + c2]];
            }
        }
    }

    private void ResizeAndCrop(RgbImage image, Span<byte> crop)
    {
        int cw = Settings.CropWidth, ch = Settings.CropHeight;
        (int rw, int rh) = ResizedSize(image.Width, image.Height);
        int left = Offset(rw, cw), top = Offset(rh, ch);

        // The part of the crop window that lies inside the resized image.
        int x0 = Math.Max(left, 0), x1 = Math.Min(left + cw, rw);
        int y0 = Math.Max(top, 0), y1 = Math.Min(top + ch, rh);
        int winW = x1 - x0, winH = y1 - y0;
        bool padded = winW != cw || winH != ch;
        if (padded) crop.Clear();
        if (winW <= 0 || winH <= 0) return;

        Span<byte> win = padded ? new byte[winW * winH * 3] : crop;
        PillowResampler.ResizeWindow(image.Pixels, image.Width, image.Height, rw, rh, Settings.Interpolation, x0, y0, winW, winH, win);
        if (padded)
        {
            int dx = x0 - left, dy = y0 - top;
            for (int r = 0; r < winH; r++)
            {
                win.Slice(r * winW * 3, winW * 3).CopyTo(crop.Slice((((dy + r) * cw) + dx) * 3));
            }
        }
    }

    private int Offset(int size, int crop)
    {
        if (size < crop) return -((crop - size) / 2);
        return Settings.CropOffsetRounding == CropOffsetRounding.Floor
            ? (size - crop) / 2
            : (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);
    }
}

using System.Globalization;
using SkiaSharp;

namespace GeoToken.Imaging;

/// <summary>The size an image is decoded at, chosen from its header before any pixel is allocated.</summary>
/// <param name="Width">Decoded width.</param>
/// <param name="Height">Decoded height.</param>
/// <param name="BoxFactor">1 when the codec decodes at this size itself; k &gt; 1 when rows are decoded at full size and averaged over k × k blocks.</param>
internal readonly record struct DecodeSize(int Width, int Height, int BoxFactor)
{
    /// <summary>Chooses the decoded size of an image the codec reports as <c>codec.Info</c>.</summary>
    /// <exception cref="ImageDecodeException">The header claims more than <see cref="ImageDecodeOptions.MaxPixels"/>.</exception>
    public static DecodeSize Choose(SKCodec codec, ImageDecodeOptions options, string sourceName)
    {
        int w = codec.Info.Width, h = codec.Info.Height;
        long pixels = (long)w * h;
        if (pixels > options.MaxPixels)
        {
            throw new ImageDecodeException(sourceName, string.Create(CultureInfo.InvariantCulture, $"its header claims {w}×{h} pixels ({pixels / 1e6:0.#} MP), more than the limit of {options.MaxPixels} (ImageDecodeOptions.MaxPixels); refused before decoding."));
        }

        bool jpeg = codec.EncodedFormat == SKEncodedImageFormat.Jpeg;
        if (pixels <= options.FullDecodeMaxPixels)
        {
            if (options.MinimumShorterSide is int min && jpeg) return Smallest(NativeScales(codec), min) ?? new DecodeSize(w, h, 1);
            return new DecodeSize(w, h, 1);
        }

        long budget = options.FullDecodeMaxPixels;
        int? floor = options.MinimumShorterSide ?? options.LargeImageShorterSide;
        if (jpeg || codec.EncodedFormat == SKEncodedImageFormat.Webp)
        {
            var native = NativeScales(codec).Where(s => (long)s.Width * s.Height <= budget).ToList();
            if (native.Count > 0) return Pick(native, floor);
        }

        var boxes = new List<DecodeSize>();
        for (int k = 2; boxes.Count == 0 || (floor is int f && Math.Min(boxes[^1].Width, boxes[^1].Height) > f && k <= Math.Min(w, h)); k++)
        {
            var s = new DecodeSize(Ceiling(w, k), Ceiling(h, k), k);
            if ((long)s.Width * s.Height <= budget) boxes.Add(s);
        }

        return Pick(boxes, floor);
    }

    private static int Ceiling(int n, int k) => (n + k - 1) / k;

    /// <summary>The codec's own reduced sizes (JPEG DCT scaling m/8), largest first.</summary>
    private static IEnumerable<DecodeSize> NativeScales(SKCodec codec)
    {
        for (int num = 8; num >= 1; num--)
        {
            SKSizeI s = codec.GetScaledDimensions(num / 8f);
            yield return new DecodeSize(s.Width, s.Height, 1);
        }
    }

    /// <summary>The smallest candidate whose shorter side reaches <paramref name="floor"/>.</summary>
    private static DecodeSize? Smallest(IEnumerable<DecodeSize> candidates, int floor) =>
        candidates.Where(s => Math.Min(s.Width, s.Height) >= floor).OrderBy(s => (long)s.Width * s.Height).Cast<DecodeSize?>().FirstOrDefault();

    /// <summary>The smallest candidate reaching <paramref name="floor"/>, else (or without a floor) the largest.</summary>
    private static DecodeSize Pick(List<DecodeSize> withinBudget, int? floor) =>
        (floor is int f ? Smallest(withinBudget, f) : null) ?? withinBudget.MaxBy(s => (long)s.Width * s.Height);
}

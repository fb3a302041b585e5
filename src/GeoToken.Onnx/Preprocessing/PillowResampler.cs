namespace GeoToken.Preprocessing;

/// <summary>
/// Pillow's separable convolution resize for 8-bit images (<c>libImaging/Resample.c</c>): antialiased
/// filter weights normalised per output pixel, 22-bit fixed-point coefficients, a horizontal pass to
/// an 8-bit intermediate and then a vertical pass, each rounding and clipping to 0–255. Only the
/// requested output window is computed; every output pixel depends on its own weights only, so the
/// window equals the same region of a full resize.
/// </summary>
internal static class PillowResampler
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Per-output-pixel source ranges and fixed-point weights along one axis.</summary>
    internal sealed class Coefficients
    {
        public required int KernelSize { get; init; }

        /// <summary>Pairs (first source index, count) per output index.</summary>
        public required int[] Bounds { get; init; }

        /// <summary><c>KernelSize</c> weights per output index.</summary>
        public required int[] Weights { get; init; }
    }

    internal static Coefficients Precompute(int inSize, int outSize, ResizeInterpolation filter)
    {
        double filterSupport = filter == ResizeInterpolation.Bicubic ? 2.0 : 1.0;
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterSupport * filterScale;
        int ksize = ((int)Math.Ceiling(support) * 2) + 1;
        var bounds = new int[outSize * 2];
        var weights = new int[outSize * ksize];
        var k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double ww = 0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Filter(filter, (x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }

            for (int x = 0; x < xmax; x++)
            {
                double w = ww != 0 ? k[x] / ww : k[x];
                weights[(xx * ksize) + x] = w < 0
                    ? (int)(-0.5 + (w * (1 << PrecisionBits)))
                    : (int)(0.5 + (w * (1 << PrecisionBits)));
            }

            bounds[xx * 2] = xmin;
            bounds[(xx * 2) + 1] = xmax;
        }

        return new Coefficients { KernelSize = ksize, Bounds = bounds, Weights = weights };
    }

    private static double Filter(ResizeInterpolation filter, double x)
    {
        if (x < 0) x = -x;
        if (filter == ResizeInterpolation.Bilinear) return x < 1.0 ? 1.0 - x : 0.0;
        const double a = -0.5;
        if (x < 1.0) return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        if (x < 2.0) return ((((x - 5) * x) + 8) * x - 4) * a;
        return 0.0;
    }

    private static byte Clip8(int v)
    {
        v >>= PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>
    /// Resizes the RGB image <paramref name="src"/> (<paramref name="inW"/> × <paramref name="inH"/>) to
    /// <paramref name="outW"/> × <paramref name="outH"/> and writes the window of columns
    /// [<paramref name="x0"/>, <paramref name="x0"/> + <paramref name="winW"/>) and rows
    /// [<paramref name="y0"/>, <paramref name="y0"/> + <paramref name="winH"/>) (inside the resized image)
    /// to <paramref name="dst"/> (winW × winH × 3 bytes).
    /// </summary>
    internal static unsafe void ResizeWindow(
        ReadOnlySpan<byte> src, int inW, int inH, int outW, int outH, ResizeInterpolation filter,
        int x0, int y0, int winW, int winH, Span<byte> dst)
    {
        bool needHorizontal = outW != inW;
        bool needVertical = outH != inH;
        Coefficients? ch = needHorizontal ? Precompute(inW, outW, filter) : null;
        Coefficients? cv = needVertical ? Precompute(inH, outH, filter) : null;

        // Source rows the vertical pass reads for the window's rows.
        int rowFirst, rowEnd;
        if (cv is null)
        {
            rowFirst = y0;
            rowEnd = y0 + winH;
        }
        else
        {
            rowFirst = cv.Bounds[y0 * 2];
            int last = y0 + winH - 1;
            rowEnd = cv.Bounds[last * 2] + cv.Bounds[(last * 2) + 1];
            for (int yy = y0; yy < y0 + winH; yy++)
            {
                rowFirst = Math.Min(rowFirst, cv.Bounds[yy * 2]);
                rowEnd = Math.Max(rowEnd, cv.Bounds[yy * 2] + cv.Bounds[(yy * 2) + 1]);
            }
        }

        // Horizontal pass: rows [rowFirst, rowEnd) × window columns.
        int tmpRows = rowEnd - rowFirst;
        int tmpStride = winW * 3;
        byte[] tmp = new byte[tmpRows * tmpStride];
        for (int r = 0; r < tmpRows; r++)
        {
            ReadOnlySpan<byte> srow = src.Slice((rowFirst + r) * inW * 3, inW * 3);
            Span<byte> trow = tmp.AsSpan(r * tmpStride, tmpStride);
            if (ch is null)
            {
                srow.Slice(x0 * 3, tmpStride).CopyTo(trow);
                continue;
            }

            int ksize = ch.KernelSize;
            fixed (byte* sp = srow, tp = trow)
            fixed (int* wp = ch.Weights)
            fixed (int* bp = ch.Bounds)
            {
                for (int xx = 0; xx < winW; xx++)
                {
                    int ox = x0 + xx;
                    int n = bp[(ox * 2) + 1];
                    int* kk = wp + (ox * ksize);
                    byte* px = sp + (bp[ox * 2] * 3);
                    int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                    for (int x = 0; x < n; x++, px += 3)
                    {
                        int w = kk[x];
                        s0 += px[0] * w;
                        s1 += px[1] * w;
                        s2 += px[2] * w;
                    }

                    tp[xx * 3] = Clip8(s0);
                    tp[(xx * 3) + 1] = Clip8(s1);
                    tp[(xx * 3) + 2] = Clip8(s2);
                }
            }
        }

        // Vertical pass.
        if (cv is null)
        {
            tmp.AsSpan(0, winH * tmpStride).CopyTo(dst);
            return;
        }

        int ks = cv.KernelSize;
        int[] acc = new int[tmpStride];
        fixed (byte* tbase = tmp)
        fixed (int* ap = acc)
        {
            for (int yy = 0; yy < winH; yy++)
            {
                int oy = y0 + yy;
                int ymin = cv.Bounds[oy * 2] - rowFirst, n = cv.Bounds[(oy * 2) + 1];
                acc.AsSpan().Fill(1 << (PrecisionBits - 1));
                for (int y = 0; y < n; y++)
                {
                    int w = cv.Weights[(oy * ks) + y];
                    byte* trow = tbase + ((ymin + y) * tmpStride);
                    for (int i = 0; i < tmpStride; i++)
                    {
                        ap[i] += trow[i] * w;
                    }
                }

                Span<byte> drow = dst.Slice(yy * tmpStride, tmpStride);
                for (int i = 0; i < drow.Length; i++)
                {
                    drow[i] = Clip8(ap[i]);
                }
            }
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GeoToken.Retrieval;

/// <summary>
/// The similarity kernel: a register-blocked GEMM micro-kernel computing inner products of a block
/// of queries (rows addressed by pointer, unpacked) with a block of gallery rows packed into
/// 16-row panels (dimension-major), 6 queries × 16 gallery rows per call, 12 AVX2 accumulators,
/// FMA. Gallery rows are packed with 8×8 register transposes, converting float16 on the fly.
/// </summary>
/// <remarks>
/// Every score is accumulated in one float32 lane as <c>fma(q[p], g[p], acc)</c> for
/// p = 0, 1, …, d−1, whatever the block shape or position, so a (query, gallery row) pair gets the
/// bit-identical score in exact search, in cluster search and in the portable fallback (used
/// without AVX2/FMA, e.g. on ARM64), which follows the same order with
/// <see cref="MathF.FusedMultiplyAdd"/>.
/// </remarks>
internal static unsafe class InnerProductKernel
{
    /// <summary>Queries per micro-tile.</summary>
    public const int Mr = 6;

    /// <summary>Gallery rows per micro-tile (and per packed panel).</summary>
    public const int Nr = 16;

    /// <summary>For tests: forces the portable path.</summary>
    internal static bool ForcePortable { get; set; }

    /// <summary>Whether the AVX2 + FMA path is used.</summary>
    public static bool IsAccelerated => Avx2.IsSupported && Fma.IsSupported && !ForcePortable;

    /// <summary>A name for reports.</summary>
    public static string Name => IsAccelerated ? "managed AVX2+FMA 6x16" : "managed portable 6x16";

    /// <summary><paramref name="value"/> rounded up to a multiple of <paramref name="multiple"/>.</summary>
    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Floats needed to pack <paramref name="rows"/> rows of dimension <paramref name="dimension"/>.</summary>
    public static int PackedLength(int rows, int dimension) => RoundUp(rows, Nr) * dimension;

    /// <summary>
    /// Packs <paramref name="n"/> row-major float32 rows into panels: panel j, dimension p, lane r at
    /// <c>packed[j·16·d + p·16 + r]</c>; lanes past <paramref name="n"/> are zero.
    /// </summary>
    public static void Pack(ReadOnlySpan<float> rows, int n, int d, Span<float> packed) => Pack<float, Float32Rows>(rows, n, d, packed);

    /// <summary>Packs <paramref name="n"/> row-major float16 rows (converted exactly to float32), as <see cref="Pack(ReadOnlySpan{float}, int, int, Span{float})"/>.</summary>
    public static void Pack(ReadOnlySpan<Half> rows, int n, int d, Span<float> packed) => Pack<Half, Float16Rows>(rows, n, d, packed);

    // One packing for both element types: TRows (a struct, so the JIT compiles each instantiation on its own) reads
    // eight values as float32 and converts one; 8×8 transposes where AVX2 is used, then scalar rows and zero lanes.
    private static void Pack<T, TRows>(ReadOnlySpan<T> rows, int n, int d, Span<float> packed)
        where T : unmanaged
        where TRows : struct, IRowElements<T>
    {
        CheckPack(rows.Length, n, d, packed.Length);
        fixed (T* src = rows)
        fixed (float* dst = packed)
        {
            int full = n / 8 * 8;
            if (IsAccelerated && d >= 8)
            {
                for (int r = 0; r < full; r += 8)
                {
                    float* o = dst + (long)(r / Nr) * Nr * d + (r % Nr);
                    T* s = src + (long)r * d;
                    int p = 0;
                    for (; p + 8 <= d; p += 8) Transpose8<T, TRows>(s + p, d, o + (long)p * Nr);
                    for (; p < d; p++)
                    {
                        for (int k = 0; k < 8; k++) o[(long)p * Nr + k] = TRows.ToSingle(s[(long)k * d + p]);
                    }
                }
            }
            else
            {
                full = 0;
            }

            for (int r = full; r < RoundUp(n, Nr); r++)
            {
                float* o = dst + (long)(r / Nr) * Nr * d + (r % Nr);
                if (r < n)
                {
                    T* s = src + (long)r * d;
                    for (int p = 0; p < d; p++) o[(long)p * Nr] = TRows.ToSingle(s[p]);
                }
                else
                {
                    for (int p = 0; p < d; p++) o[(long)p * Nr] = 0;
                }
            }
        }
    }

    /// <summary>How <see cref="Pack{T, TRows}"/> reads rows of <typeparamref name="T"/> as float32.</summary>
    private interface IRowElements<T>
        where T : unmanaged
    {
        /// <summary>Eight consecutive values as float32.</summary>
        static abstract Vector256<float> Load8(T* source);

        /// <summary>One value as float32 (exact).</summary>
        static abstract float ToSingle(T value);
    }

    private readonly struct Float32Rows : IRowElements<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(float* source) => Avx.LoadVector256(source);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float ToSingle(float value) => value;
    }

    private readonly struct Float16Rows : IRowElements<Half>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(Half* source) => HalfConversion.Convert8(source);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float ToSingle(Half value) => (float)value;
    }

    /// <summary>
    /// <c>scores[i·ldc + j] = Σₚ query_i[p]·gallery_j[p]</c> for every i &lt; RoundUp(m, 6) and
    /// j &lt; RoundUp(n, 16): whole tiles are written, so <paramref name="scores"/> must hold
    /// RoundUp(m, 6) rows of stride <paramref name="ldc"/> ≥ RoundUp(n, 16). Rows past m repeat
    /// the last query; columns past n are products with zero rows. Only [0, m) × [0, n) is meaningful.
    /// </summary>
    /// <param name="queryRows">Addresses of the m query rows (float32, <paramref name="d"/> values each).</param>
    /// <param name="m">Number of queries.</param>
    /// <param name="packed">Gallery rows packed by <see cref="Pack(ReadOnlySpan{float}, int, int, Span{float})"/>.</param>
    /// <param name="n">Number of packed gallery rows.</param>
    /// <param name="d">Dimension.</param>
    /// <param name="scores">Output.</param>
    /// <param name="ldc">Row stride of <paramref name="scores"/>.</param>
    public static void Multiply(ReadOnlySpan<nint> queryRows, int m, ReadOnlySpan<float> packed, int n, int d, Span<float> scores, int ldc)
    {
        int mPad = RoundUp(m, Mr), nPad = RoundUp(n, Nr);
        if (m <= 0 || n <= 0) return;
        if (queryRows.Length < m || packed.Length < (long)nPad * d || ldc < nPad || scores.Length < (long)(mPad - 1) * ldc + nPad)
        {
            throw new ArgumentException("Kernel buffers are too small.");
        }

        bool fast = IsAccelerated;
        fixed (float* b0 = packed)
        fixed (float* c0 = scores)
        {
            for (int j = 0; j < nPad; j += Nr)
            {
                float* b = b0 + (long)j * d;
                for (int i = 0; i < m; i += Mr)
                {
                    float* a0 = (float*)queryRows[i];
                    float* a1 = (float*)queryRows[Math.Min(i + 1, m - 1)];
                    float* a2 = (float*)queryRows[Math.Min(i + 2, m - 1)];
                    float* a3 = (float*)queryRows[Math.Min(i + 3, m - 1)];
                    float* a4 = (float*)queryRows[Math.Min(i + 4, m - 1)];
                    float* a5 = (float*)queryRows[Math.Min(i + 5, m - 1)];
                    float* c = c0 + (long)i * ldc + j;
                    if (fast) Tile6x16(a0, a1, a2, a3, a4, a5, b, d, c, ldc);
                    else Tile6x16Portable([(nint)a0, (nint)a1, (nint)a2, (nint)a3, (nint)a4, (nint)a5], b, d, c, ldc);
                }
            }
        }
    }

    private static void CheckPack(int rowsLength, int n, int d, int packedLength)
    {
        if (n < 0 || d <= 0 || rowsLength < (long)n * d || packedLength < (long)PackedLength(n, d))
        {
            throw new ArgumentException($"Cannot pack {n} rows of dimension {d} from {rowsLength} values into {packedLength}.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8<T, TRows>(T* s, int stride, float* o)
        where T : unmanaged
        where TRows : struct, IRowElements<T>
    {
        Store8x8(
            TRows.Load8(s), TRows.Load8(s + stride), TRows.Load8(s + 2 * stride), TRows.Load8(s + 3 * stride),
            TRows.Load8(s + 4 * stride), TRows.Load8(s + 5 * stride), TRows.Load8(s + 6 * stride), TRows.Load8(s + 7 * stride),
            o);
    }

    // Writes column p of the 8×8 block (rows r0..r7) to o + p·16.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8x8(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* o)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(o, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(o + Nr, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(o + 2 * Nr, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(o + 3 * Nr, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(o + 4 * Nr, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(o + 5 * Nr, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(o + 6 * Nr, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(o + 7 * Nr, Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Tile6x16(float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, float* b, int d, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (nint p = 0; p < d; p++)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var a = Avx.BroadcastScalarToVector256(a0 + p);
            c00 = Fma.MultiplyAdd(a, b0, c00);
            c01 = Fma.MultiplyAdd(a, b1, c01);
            a = Avx.BroadcastScalarToVector256(a1 + p);
            c10 = Fma.MultiplyAdd(a, b0, c10);
            c11 = Fma.MultiplyAdd(a, b1, c11);
            a = Avx.BroadcastScalarToVector256(a2 + p);
            c20 = Fma.MultiplyAdd(a, b0, c20);
            c21 = Fma.MultiplyAdd(a, b1, c21);
            a = Avx.BroadcastScalarToVector256(a3 + p);
            c30 = Fma.MultiplyAdd(a, b0, c30);
            c31 = Fma.MultiplyAdd(a, b1, c31);
            a = Avx.BroadcastScalarToVector256(a4 + p);
            c40 = Fma.MultiplyAdd(a, b0, c40);
            c41 = Fma.MultiplyAdd(a, b1, c41);
            a = Avx.BroadcastScalarToVector256(a5 + p);
            c50 = Fma.MultiplyAdd(a, b0, c50);
            c51 = Fma.MultiplyAdd(a, b1, c51);
            b += Nr;
        }

        Avx.Store(c, c00);
        Avx.Store(c + 8, c01);
        c += ldc;
        Avx.Store(c, c10);
        Avx.Store(c + 8, c11);
        c += ldc;
        Avx.Store(c, c20);
        Avx.Store(c + 8, c21);
        c += ldc;
        Avx.Store(c, c30);
        Avx.Store(c + 8, c31);
        c += ldc;
        Avx.Store(c, c40);
        Avx.Store(c + 8, c41);
        c += ldc;
        Avx.Store(c, c50);
        Avx.Store(c + 8, c51);
    }

    private static void Tile6x16Portable(ReadOnlySpan<nint> a, float* b, int d, float* c, int ldc)
    {
        for (int r = 0; r < Mr; r++)
        {
            float* row = (float*)a[r];
            for (int lane = 0; lane < Nr; lane++)
            {
                float acc = 0;
                for (int p = 0; p < d; p++) acc = MathF.FusedMultiplyAdd(row[p], b[(long)p * Nr + lane], acc);
                c[(long)r * ldc + lane] = acc;
            }
        }
    }
}

using GeoToken.Retrieval;

namespace GeoToken.Tests.Retrieval;

public sealed class InnerProductKernelTests
{
    [Fact]
    public void Half_conversion_is_exact_for_every_half()
    {
        var all = new Half[65536];
        for (int i = 0; i < all.Length; i++) all[i] = BitConverter.UInt16BitsToHalf((ushort)i);
        var converted = new float[all.Length];
        HalfConversion.Convert(all, converted);
        for (int i = 0; i < all.Length; i++)
        {
            float expected = (float)all[i];
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(converted[i]), $"half 0x{i:x4}");
            else Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(converted[i]), $"half 0x{i:x4}: {expected} vs {converted[i]}");
        }
    }

    [Theory]
    [InlineData(1, 1, 8)]
    [InlineData(7, 17, 13)]
    [InlineData(13, 40, 64)]
    [InlineData(6, 16, 512)]
    [InlineData(25, 33, 100)]
    public void Multiply_matches_a_double_precision_reference(int m, int n, int d)
    {
        var (scores, ldc) = Run(m, n, d, seed: m * 1000 + n, portable: false, out var q, out var g);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < d; p++) s += (double)q[i * d + p] * g[j * d + p];
                Assert.True(Math.Abs(s - scores[i * ldc + j]) < 1e-4, $"({i},{j}): {s} vs {scores[i * ldc + j]}");
            }
        }
    }

    [Theory]
    [InlineData(7, 17, 13)]
    [InlineData(12, 48, 512)]
    public void Portable_and_AVX2_paths_give_bit_identical_scores(int m, int n, int d)
    {
        var (fast, ldc) = Run(m, n, d, 5, portable: false, out _, out _);
        var (slow, _) = Run(m, n, d, 5, portable: true, out _, out _);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++) Assert.Equal(BitConverter.SingleToInt32Bits(fast[i * ldc + j]), BitConverter.SingleToInt32Bits(slow[i * ldc + j]));
        }
    }

    [Fact]
    public void Packing_float16_equals_packing_its_float32_conversion()
    {
        int n = 37, d = 24;
        var h = RetrievalTestData.ToHalf(RetrievalTestData.Random(n, d, 3));
        var f = RetrievalTestData.FromHalf(h);
        var a = new float[InnerProductKernel.PackedLength(n, d)];
        var b = new float[a.Length];
        InnerProductKernel.Pack(h, n, d, a);
        InnerProductKernel.Pack(f, n, d, b);
        Assert.Equal(b, a);
    }

    private static unsafe (float[] Scores, int Ldc) Run(int m, int n, int d, int seed, bool portable, out float[] q, out float[] g)
    {
        q = RetrievalTestData.Random(m, d, seed);
        g = RetrievalTestData.Random(n, d, seed + 1);
        var packed = new float[InnerProductKernel.PackedLength(n, d)];
        int ldc = InnerProductKernel.RoundUp(n, InnerProductKernel.Nr);
        var scores = new float[InnerProductKernel.RoundUp(m, InnerProductKernel.Mr) * ldc];
        bool before = InnerProductKernel.ForcePortable;
        InnerProductKernel.ForcePortable = portable;
        try
        {
            InnerProductKernel.Pack(g, n, d, packed);
            fixed (float* qp = q)
            {
                var rows = new nint[m];
                for (int i = 0; i < m; i++) rows[i] = (nint)(qp + i * d);
                InnerProductKernel.Multiply(rows, m, packed, n, d, scores, ldc);
            }
        }
        finally
        {
            InnerProductKernel.ForcePortable = before;
        }

        return (scores, ldc);
    }
}

using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace GeoToken.SynthGeo;

/// <summary>
/// The fixed random 2-layer MLP that mixes a latent vector into the output embedding:
/// y = W₂ (max(W₁ z, 0) − 1/√(2π)), then y / ‖y‖. Rows are processed in blocks with a register-blocked
/// kernel (6 rows × 16 columns, fused multiply-add in a fixed order, so every output is bit-identical
/// however rows are blocked or threaded).
/// </summary>
internal sealed class Mixer
{
    /// <summary>Rows are processed in multiples of this.</summary>
    public const int RowBlock = 6;

    private const int ColumnBlock = 16;
    private const float ReluMean = 0.3989422804f; // E[max(a, 0)] for a ~ N(0, 1)
    private readonly float[] _w1; // packed strips of W₁ᵀ (latent × hidden)
    private readonly float[] _w2; // packed strips of W₂ᵀ (hidden × paddedOutput)

    public Mixer(int latent, int hidden, int output, ulong seed)
    {
        Latent = latent;
        Hidden = hidden;
        Output = output;
        PaddedOutput = (output + ColumnBlock - 1) / ColumnBlock * ColumnBlock;
        var w1 = new float[latent * hidden];
        var w2 = new float[hidden * PaddedOutput];
        var rng = new Rng(Rng.Hash(seed, 0x4D4C5031)); // "MLP1"
        for (int k = 0; k < w1.Length; k++) w1[k] = rng.NextApproxGaussian(); // a = W₁z ~ N(0, 1) for unit z
        rng = new Rng(Rng.Hash(seed, 0x4D4C5032));
        float s2 = 1 / MathF.Sqrt(hidden);
        for (int i = 0; i < hidden; i++)
        {
            for (int j = 0; j < output; j++) w2[i * PaddedOutput + j] = rng.NextApproxGaussian() * s2;
        }

        _w1 = Pack(w1, latent, hidden);
        _w2 = Pack(w2, hidden, PaddedOutput);
    }

    public int Latent { get; }

    /// <summary>Unpacks W₁ᵀ (latent × hidden) and W₂ᵀ (hidden × padded output), row-major (for tests).</summary>
    internal (float[] W1, float[] W2) Weights() => (Unpack(_w1, Latent, Hidden), Unpack(_w2, Hidden, PaddedOutput));

    public int Hidden { get; }

    public int Output { get; }

    public int PaddedOutput { get; }

    /// <summary>
    /// Mixes <paramref name="rows"/> latent rows (row-major, <see cref="Latent"/> wide, rows a multiple of <see cref="RowBlock"/>)
    /// into unit-length outputs (<see cref="Output"/> wide, written to <paramref name="output"/>).
    /// <paramref name="hidden"/> and <paramref name="padded"/> are scratch of rows × <see cref="Hidden"/> and rows × <see cref="PaddedOutput"/>.
    /// </summary>
    public void Mix(ReadOnlySpan<float> latent, int rows, Span<float> hidden, Span<float> padded, Span<float> output)
    {
        if (rows % RowBlock != 0) throw new ArgumentException($"Rows must be a multiple of {RowBlock}.", nameof(rows));
        Multiply(latent, rows, Latent, _w1, Hidden, hidden);
        var h = hidden[..(rows * Hidden)];
        TensorPrimitives.Max(h, 0f, h);
        TensorPrimitives.Add(h, -ReluMean, h);
        Multiply(h, rows, Hidden, _w2, PaddedOutput, padded);
        for (int r = 0; r < rows; r++)
        {
            var y = padded.Slice(r * PaddedOutput, Output);
            float norm = TensorPrimitives.Norm(y);
            var dst = output.Slice(r * Output, Output);
            if (norm > 0) TensorPrimitives.Multiply(y, 1 / norm, dst);
            else y.CopyTo(dst);
        }
    }

    private static float[] Unpack(float[] packed, int k, int n)
    {
        var b = new float[k * n];
        int o = 0;
        for (int j = 0; j < n; j += ColumnBlock)
        {
            for (int kk = 0; kk < k; kk++)
            {
                Array.Copy(packed, o, b, kk * n + j, ColumnBlock);
                o += ColumnBlock;
            }
        }

        return b;
    }

    /// <summary>Packs a K × N row-major matrix into N/16 contiguous strips of K × 16.</summary>
    private static float[] Pack(float[] b, int k, int n)
    {
        var packed = new float[k * n];
        int o = 0;
        for (int j = 0; j < n; j += ColumnBlock)
        {
            for (int kk = 0; kk < k; kk++)
            {
                Array.Copy(b, kk * n + j, packed, o, ColumnBlock);
                o += ColumnBlock;
            }
        }

        return packed;
    }

    /// <summary>
    /// C (rows × n) = A (rows × k) · B (k × n, packed in strips of 16 columns), rows a multiple of 6.
    /// A 6 × 16 register block (12 accumulators, 2 loads of B and 6 broadcasts per step) fits the 16
    /// vector registers of AVX2 without spilling.
    /// </summary>
    private static unsafe void Multiply(ReadOnlySpan<float> a, int rows, int k, float[] packedB, int n, Span<float> c)
    {
        if (rows % RowBlock != 0 || a.Length < rows * k || c.Length < rows * n) throw new ArgumentException("Bad GEMM shapes.");
        fixed (float* pa = a, pb0 = packedB, pc = c)
        {
            for (int j = 0; j < n; j += ColumnBlock)
            {
                float* strip = pb0 + (long)j * k;
                for (int r = 0; r < rows; r += RowBlock)
                {
                    float* a0 = pa + r * k;
                    Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
                    Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
                    float* bp = strip;
                    for (int kk = 0; kk < k; kk++, bp += ColumnBlock)
                    {
                        var b0 = Vector256.Load(bp);
                        var b1 = Vector256.Load(bp + 8);
                        var x = Vector256.Create(a0[kk]);
                        c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
                        c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
                        x = Vector256.Create(a0[k + kk]);
                        c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
                        c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
                        x = Vector256.Create(a0[2 * k + kk]);
                        c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
                        c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
                        x = Vector256.Create(a0[3 * k + kk]);
                        c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
                        c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
                        x = Vector256.Create(a0[4 * k + kk]);
                        c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
                        c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
                        x = Vector256.Create(a0[5 * k + kk]);
                        c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
                        c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
                    }

                    float* o = pc + r * n + j;
                    c00.Store(o); c01.Store(o + 8); o += n;
                    c10.Store(o); c11.Store(o + 8); o += n;
                    c20.Store(o); c21.Store(o + 8); o += n;
                    c30.Store(o); c31.Store(o + 8); o += n;
                    c40.Store(o); c41.Store(o + 8); o += n;
                    c50.Store(o); c51.Store(o + 8);
                }
            }
        }
    }
}

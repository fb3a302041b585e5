using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GeoToken.Retrieval;

/// <summary>
/// float16 → float32 conversion, exact (bit-identical to <c>(float)half</c> for every non-NaN value;
/// NaN stays NaN). .NET 10 exposes no F16C intrinsics, so the AVX2 path widens eight halves with
/// <c>vpmovzxwd</c> and rebuilds the float32 bits with integer operations (normals: rebias the
/// exponent; subnormals: exact int→float conversion times 2⁻²⁴; ∞/NaN: all-ones exponent).
/// </summary>
internal static class HalfConversion
{
    /// <summary>Converts eight halves at <paramref name="source"/> (AVX2 required).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Convert8(Half* source)
    {
        Vector256<int> h = Avx2.ConvertToVector256Int32((ushort*)source);
        Vector256<int> magnitude = h & Vector256.Create(0x7FFF);
        Vector256<int> sign = Avx2.ShiftLeftLogical(h & Vector256.Create(0x8000), 16);
        Vector256<int> normal = Avx2.ShiftLeftLogical(magnitude, 13) + Vector256.Create(0x38000000);
        Vector256<float> subnormal = Avx.ConvertToVector256Single(magnitude) * Vector256.Create(5.9604645E-08f); // 2^-24
        Vector256<int> special = Avx2.ShiftLeftLogical(magnitude, 13) | Vector256.Create(0x7F800000);
        Vector256<int> isSubnormal = Avx2.CompareGreaterThan(Vector256.Create(0x0400), magnitude);
        Vector256<int> isSpecial = Avx2.CompareGreaterThan(magnitude, Vector256.Create(0x7BFF));
        Vector256<int> bits = Avx2.BlendVariable(normal, subnormal.AsInt32(), isSubnormal);
        bits = Avx2.BlendVariable(bits, special, isSpecial);
        return (bits | sign).AsSingle();
    }

    /// <summary>Converts <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static unsafe void Convert(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination is too short.", nameof(destination));
        int k = 0;
        if (Avx2.IsSupported)
        {
            fixed (Half* s = source)
            fixed (float* d = destination)
            {
                for (; k + 8 <= source.Length; k += 8) Avx.Store(d + k, Convert8(s + k));
            }
        }

        for (; k < source.Length; k++) destination[k] = (float)source[k];
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GeoToken.Geometry;

/// <summary>
/// The coordinate systems of the S2 cube projection (face/u/v, s/t, i/j, si/ti) and the Hilbert
/// curve lookup tables. Every formula is evaluated in the same order as Google's C++ S2 so that
/// results are bit-identical (the test suite checks this against libs2).
/// </summary>
internal static class S2Coords
{
    internal const int MaxLevel = 30;
    internal const int PosBits = 2 * MaxLevel + 1;
    internal const int LimitIJ = 1 << MaxLevel;
    internal const uint MaxSiTi = 1u << (MaxLevel + 1);
    internal const int SwapMask = 1;
    internal const int InvertMask = 2;
    internal const int LookupBits = 4;

    // Hilbert traversal: for a parent orientation, the (i,j) quadrant of each child position...
    private static ReadOnlySpan<byte> PosToIJ => [0, 1, 3, 2, 0, 2, 3, 1, 3, 2, 0, 1, 3, 1, 0, 2];

    // ...and how each child's orientation differs from its parent's.
    private static ReadOnlySpan<byte> PosToOrientation => [SwapMask, 0, 0, InvertMask | SwapMask];

    /// <summary>(i4, j4, orientation) → (Hilbert position of 4 levels, orientation).</summary>
    internal static readonly ushort[] LookupPos = BuildLookup(forPos: true);

    /// <summary>(Hilbert position of 4 levels, orientation) → (i4, j4, orientation).</summary>
    internal static readonly ushort[] LookupIJ = BuildLookup(forPos: false);

    private static ushort[] BuildLookup(bool forPos)
    {
        var pos = new ushort[1 << (2 * LookupBits + 2)];
        var ij = new ushort[1 << (2 * LookupBits + 2)];
        for (int orientation = 0; orientation < 4; orientation++)
        {
            Fill(0, 0, 0, orientation, 0, orientation);
        }

        return forPos ? pos : ij;

        void Fill(int level, int i, int j, int origOrientation, int p, int orientation)
        {
            if (level == LookupBits)
            {
                int ijIndex = (i << LookupBits) + j;
                pos[(ijIndex << 2) + origOrientation] = (ushort)((p << 2) + orientation);
                ij[(p << 2) + origOrientation] = (ushort)((ijIndex << 2) + orientation);
                return;
            }

            for (int k = 0; k < 4; k++)
            {
                int r = PosToIJ[(orientation << 2) + k];
                Fill(level + 1, (i << 1) + (r >> 1), (j << 1) + (r & 1), origOrientation,
                    (p << 2) + k, orientation ^ PosToOrientation[k]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double STtoUV(double s) =>
        s >= 0.5 ? (1 / 3.0) * (4 * s * s - 1) : (1 / 3.0) * (1 - 4 * (1 - s) * (1 - s));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double UVtoST(double u) =>
        u >= 0 ? 0.5 * Math.Sqrt(1 + 3 * u) : 1 - 0.5 * Math.Sqrt(1 - 3 * u);

    /// <summary>S2's <c>STtoIJ</c>: round half to even (as <c>cvtsd2si</c>), then clamp to the face.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int STtoIJ(double s)
    {
        // Math.Round defaults to MidpointRounding.ToEven, the x86 default rounding mode that S2's
        // FastIntRound relies on; the conversion saturates (NaN → 0), then clamping applies.
        int r = (int)Math.Round(LimitIJ * s - 0.5);
        return Math.Max(0, Math.Min(LimitIJ - 1, r));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double IJtoSTMin(int i) => (1.0 / LimitIJ) * i;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double SiTitoST(uint si) => (1.0 / MaxSiTi) * si;

    internal static S2Point FaceUVtoXYZ(int face, double u, double v) => face switch
    {
        0 => new S2Point(1, u, v),
        1 => new S2Point(-u, 1, v),
        2 => new S2Point(-u, -v, 1),
        3 => new S2Point(-1, -v, -u),
        4 => new S2Point(v, -1, -u),
        _ => new S2Point(v, u, -1),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int GetFace(double x, double y, double z)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y), az = Math.Abs(z);
        int face = ax > ay ? (ax > az ? 0 : 2) : (ay > az ? 1 : 2);
        double c = face == 0 ? x : face == 1 ? y : z;
        return c < 0 ? face + 3 : face;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ValidFaceXYZtoUV(int face, double x, double y, double z, out double u, out double v)
    {
        switch (face)
        {
            case 0: u = y / x; v = z / x; break;
            case 1: u = -x / y; v = z / y; break;
            case 2: u = -x / z; v = -y / z; break;
            case 3: u = z / x; v = y / x; break;
            case 4: u = z / y; v = -x / y; break;
            default: u = -y / z; v = -x / z; break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int XYZtoFaceUV(double x, double y, double z, out double u, out double v)
    {
        int face = GetFace(x, y, z);
        ValidFaceXYZtoUV(face, x, y, z, out u, out v);
        return face;
    }

    /// <summary>The leaf cell id of face and leaf coordinates (i, j), walking the Hilbert curve 4 levels per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong FromFaceIJ(int face, int i, int j)
    {
        ref ushort lookup = ref MemoryMarshal.GetArrayDataReference(LookupPos);
        ulong n = (ulong)face << (PosBits - 1);
        int bits = face & SwapMask;
        const int mask = (1 << LookupBits) - 1;
        for (int k = 7; k >= 0; k--)
        {
            bits += ((i >> (k * LookupBits)) & mask) << (LookupBits + 2);
            bits += ((j >> (k * LookupBits)) & mask) << 2;
            bits = Unsafe.Add(ref lookup, (nint)(uint)bits);
            n |= (ulong)(bits >> 2) << (k * 2 * LookupBits);
            bits &= SwapMask | InvertMask;
        }

        return n * 2 + 1;
    }

    /// <summary>Decodes a cell id into its face and the (i, j) of a leaf inside it, plus the Hilbert orientation.</summary>
    internal static int ToFaceIJOrientation(ulong id, out int i, out int j, out int orientation)
    {
        ref ushort lookup = ref MemoryMarshal.GetArrayDataReference(LookupIJ);
        int face = (int)(id >> PosBits);
        int bits = face & SwapMask;
        int ii = 0, jj = 0;
        for (int k = 7; k >= 0; k--)
        {
            int nbits = k == 7 ? MaxLevel - 7 * LookupBits : LookupBits;
            bits += (int)((id >> (k * 2 * LookupBits + 1)) & ((1UL << (2 * nbits)) - 1)) << 2;
            bits = Unsafe.Add(ref lookup, (nint)(uint)bits);
            ii += (bits >> (LookupBits + 2)) << (k * LookupBits);
            jj += ((bits >> 2) & ((1 << LookupBits) - 1)) << (k * LookupBits);
            bits &= SwapMask | InvertMask;
        }

        // The lookup walks 4 levels at a time; a cell at an odd level ends half-way and swaps.
        ulong lsb = id & (~id + 1);
        if ((lsb & 0x1111111111111110UL) != 0) bits ^= SwapMask;
        i = ii;
        j = jj;
        orientation = bits;
        return face;
    }
}

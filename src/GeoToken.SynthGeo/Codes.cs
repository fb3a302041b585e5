using System.Runtime.Intrinsics;

namespace GeoToken.SynthGeo;

/// <summary>
/// Random codebooks without tables: the code of a key is a Rademacher vector (±1/√L per coordinate)
/// whose signs are the bits of a hash stream seeded by the key. Distinct keys give nearly orthogonal
/// unit vectors (cosine ~ N(0, 1/L)); the same key always gives the same vector.
/// </summary>
internal static class Codes
{
    // For each byte value, the eight signs of its bits (bit 0 first) as ±1 floats.
    private static readonly float[] Patterns = BuildPatterns();

    /// <summary>Adds <paramref name="weight"/> × code(<paramref name="key"/>) to <paramref name="z"/> (length a multiple of 64).</summary>
    public static void Add(Span<float> z, ulong key, float weight)
    {
        if (weight == 0) return;
        float scale = weight / MathF.Sqrt(z.Length);
        var w = Vector256.Create(scale);
        var rng = new Rng(key);
        for (int block = 0; block < z.Length; block += 64)
        {
            ulong bits = rng.NextUInt64();
            for (int b = 0; b < 8; b++)
            {
                int pattern = (int)(bits >> (8 * b)) & 0xFF;
                var p = Vector256.Create(Patterns, pattern * 8);
                var target = z.Slice(block + 8 * b, 8);
                Vector256.FusedMultiplyAdd(p, w, Vector256.Create<float>(target)).CopyTo(target);
            }
        }
    }

    /// <summary>Writes code(<paramref name="key"/>) (unit length) into <paramref name="z"/>.</summary>
    public static void Write(Span<float> z, ulong key)
    {
        z.Clear();
        Add(z, key, 1f);
    }

    /// <summary>Adds approximately Gaussian noise of expected norm <paramref name="weight"/> from <paramref name="rng"/>.</summary>
    public static void AddNoise(Span<float> z, ref Rng rng, float weight)
    {
        if (weight == 0) return;
        float scale = weight / MathF.Sqrt(z.Length);
        for (int k = 0; k < z.Length; k++) z[k] += scale * rng.NextApproxGaussian();
    }

    private static float[] BuildPatterns()
    {
        var p = new float[256 * 8];
        for (int v = 0; v < 256; v++)
        {
            for (int bit = 0; bit < 8; bit++) p[v * 8 + bit] = ((v >> bit) & 1) != 0 ? 1f : -1f;
        }

        return p;
    }
}

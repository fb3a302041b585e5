namespace GeoToken.Retrieval;

/// <summary>
/// Seeds derived from a user seed and a few integers, the same in every process (unlike
/// <see cref="HashCode.Combine{T1, T2}"/>, which is randomised per process and made index builds
/// irreproducible across runs).
/// </summary>
internal static class DerivedSeed
{
    /// <summary>A 32-bit seed mixing <paramref name="seed"/> with <paramref name="parts"/> (SplitMix64 finaliser after each).</summary>
    public static int Combine(int seed, params ReadOnlySpan<long> parts)
    {
        ulong h = Mix((ulong)(uint)seed + 0x9E3779B97F4A7C15UL);
        foreach (long p in parts) h = Mix(h ^ ((ulong)p + 0x9E3779B97F4A7C15UL));
        return (int)(h >> 32);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

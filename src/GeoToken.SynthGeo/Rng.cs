using System.Runtime.CompilerServices;

namespace GeoToken.SynthGeo;

/// <summary>
/// A small counter-seeded random generator (SplitMix64). Every row, block and codebook entry gets its
/// own generator from a hash of (seed, purpose, index), so results never depend on thread scheduling.
/// </summary>
internal struct Rng
{
    private ulong _state;

    public Rng(ulong seed) => _state = seed;

    /// <summary>A generator for (seed, a, b, c): distinct inputs give independent streams.</summary>
    public static Rng For(ulong seed, ulong a, ulong b = 0, ulong c = 0) => new(Hash(seed, a, b, c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A 64-bit hash of four values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(ulong seed, ulong a, ulong b = 0, ulong c = 0)
    {
        ulong h = Mix(seed + 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (a + 0x632BE59BD9B4E019UL));
        h = Mix(h ^ (b + 0x8CB92BA72F3D8DD7UL));
        return Mix(h ^ (c + 0xD1B54A32D192ED03UL));
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextUInt64() >> 33) * (ulong)n >> 31);

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A Kumaraswamy(a, b) sample in (0, 1): a Beta-like law with a closed-form inverse CDF.</summary>
    public double NextKumaraswamy(double a, double b) => Math.Pow(1 - Math.Pow(1 - NextDouble(), 1 / b), 1 / a);

    /// <summary>An Irwin–Hall approximation of a standard normal from integer arithmetic only (platform-independent bits).</summary>
    public float NextApproxGaussian()
    {
        ulong x = NextUInt64();
        // Sum of four 16-bit uniforms: mean 2·65535, variance 4·(65536²−1)/12.
        long s = (long)(x & 0xFFFF) + (long)((x >> 16) & 0xFFFF) + (long)((x >> 32) & 0xFFFF) + (long)(x >> 48) - 2 * 65535;
        return (float)(s * (1.0 / 37837.2));
    }
}

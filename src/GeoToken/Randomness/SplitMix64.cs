namespace GeoToken.Randomness;

/// <summary>A small, fast, portable 64-bit generator (Steele, Lea &amp; Flood's SplitMix64) whose whole state is one <c>ulong</c>.</summary>
/// <remarks>
/// The library's one random generator: decoding's sampling streams (one per image, <c>SplitMix64(Mix(seed, key))</c>) and
/// training's shuffles and initialisations draw from it, so results depend neither on the platform nor on a global
/// generator. A mutable value type: pass it by <c>ref</c> to share one stream.
/// </remarks>
public struct SplitMix64
{
    private ulong _state;

    /// <summary>A generator whose state is <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The current state (a generator made from it continues this one's stream).</summary>
    public readonly ulong State => _state;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n) without modulo bias (Lemire's method with rejection).</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ulong bound = (ulong)n;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            UInt128 m = (UInt128)r * bound;
            if ((ulong)m >= threshold) return (int)(m >> 64);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller, one value per call).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Mixes two values into one seed (e.g. a seed and an image key into that image's stream).</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        var g = new SplitMix64(a ^ (b * 0xD1B54A32D192ED03UL));
        g.NextUInt64();
        return g.NextUInt64();
    }

    /// <summary>
    /// The row order of epoch <paramref name="epoch"/>: a Fisher–Yates shuffle of 0 … count − 1 drawn from
    /// <c>(seed, epoch)</c> alone, so any epoch's order can be recomputed on resume.
    /// </summary>
    public static int[] EpochOrder(ulong seed, int epoch, int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var rng = new SplitMix64(Mix(seed, (ulong)epoch + 1));
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}

using CsCheck;

namespace GeoToken.Tests.Support;

/// <summary>
/// Generators of damaged files for property-based fuzzing: random bytes, and mutations of a real
/// valid file (bit flips, truncation, overwritten runs, splicing, duplicated runs). Also linked
/// into the Onnx and CLI test projects.
/// </summary>
internal static class ByteMutations
{
    /// <summary>
    /// Random bytes or a mutation of one of <paramref name="seeds"/>; with <paramref name="focus"/>,
    /// half of the point mutations land in the first <paramref name="focus"/> bytes (a header).
    /// </summary>
    public static Gen<byte[]> Of(IReadOnlyList<byte[]> seeds, int focus = 0, int maxRandomLength = 512)
    {
        var seed = Gen.Int[0, seeds.Count - 1].Select(i => seeds[i]);
        var position = seed.SelectMany(s => focus > 0
            ? Gen.OneOf(Gen.Int[0, Math.Max(0, Math.Min(focus, s.Length) - 1)], Gen.Int[0, Math.Max(0, s.Length - 1)]).Select(p => (s, p))
            : Gen.Int[0, Math.Max(0, s.Length - 1)].Select(p => (s, p)));
        return Gen.Frequency(
            (1, Gen.Byte.Array[0, maxRandomLength]),
            (1, seed),
            (3, Gen.Select(position.Array[1, 8], Gen.Int[0, 7], (hits, bit) => BitFlips(hits, bit))),
            (2, seed.SelectMany(s => Gen.Int[0, Math.Max(0, s.Length - 1)].Select(n => s[..n]))),
            (2, Gen.Select(position, Gen.Byte.Array[1, 16], (sp, junk) => Overwrite(sp.s, sp.p, junk))),
            (1, Gen.Select(seed, seed, Gen.Double[0, 1], Gen.Double[0, 1], (a, b, x, y) => (byte[])[.. a[..(int)(x * a.Length)], .. b[(int)(y * b.Length)..]])),
            (1, Gen.Select(position, Gen.Int[1, 64], (sp, n) => Duplicate(sp.s, sp.p, n))),
            (1, Gen.Select(position, Gen.OneOf(Gen.Const<byte>(0), Gen.Const<byte>(0xFF), Gen.Const<byte>(0x7F), Gen.Const<byte>(0x80)).Array[1, 4], (sp, v) => Overwrite(sp.s, sp.p, v))));
    }

    /// <summary>"length N, starts 0a 1b …" for failure messages (CsCheck prints the seed to replay it).</summary>
    public static string Describe(byte[] bytes) => $"length {bytes.Length}, starts {Convert.ToHexString(bytes.AsSpan(0, Math.Min(48, bytes.Length)))}";

    private static byte[] BitFlips((byte[] Seed, int Position)[] hits, int bit)
    {
        byte[] b = [.. hits[0].Seed];
        foreach (var (_, p) in hits)
        {
            if (p < b.Length) b[p] ^= (byte)(1 << ((bit + p) & 7));
        }

        return b;
    }

    private static byte[] Overwrite(byte[] seed, int at, byte[] junk)
    {
        byte[] b = [.. seed];
        for (int i = 0; i < junk.Length && at + i < b.Length; i++) b[at + i] = junk[i];
        return b;
    }

    private static byte[] Duplicate(byte[] seed, int at, int n)
    {
        n = Math.Min(n, seed.Length - at);
        return [.. seed[..(at + n)], .. seed[at..]];
    }
}

using GeoToken.Geometry;
using GeoToken.Tests.Geometry.S2Reference;

namespace GeoToken.Tests.Geometry;

/// <summary>
/// Bit-exactness against Google's C++ S2 (libs2-dev): every result below is compared with what
/// libs2 computes for the same input, to the last bit.
/// </summary>
public sealed class S2CellIdLibs2Tests
{
    private const int RandomPoints = 1_000_000;

    /// <summary>One million random positions plus every special case, compared at every level 0–30.</summary>
    [Fact]
    public void LatLng_to_cell_matches_libs2_at_every_level()
    {
        var points = S2TestPoints.RandomLatLngs(RandomPoints, seed: 20251123).Concat(S2TestPoints.SpecialLatLngs()).ToArray();
        Assert.True(points.Length > RandomPoints);
        int mismatches = 0;
        string? first = null;
        S2Reference.S2Reference.Run('L', points.Length,
            input =>
            {
                foreach (var (lat, lng) in points)
                {
                    input.Write(lat);
                    input.Write(lng);
                }
            },
            output =>
            {
                foreach (var (lat, lng) in points)
                {
                    var leaf = S2CellId.FromLatLng(lat, lng);
                    for (int level = 0; level <= S2CellId.MaxLevel; level++)
                    {
                        ulong expected = output.ReadUInt64();
                        ulong actual = leaf.Parent(level).Id;
                        if (expected != actual && mismatches++ == 0)
                        {
                            first = FormattableString.Invariant($"({lat:R}, {lng:R}) level {level}: libs2 {expected:x16}, ours {actual:x16}");
                        }
                    }
                }
            });
        Assert.True(mismatches == 0, $"{mismatches} mismatches; first: {first}");
    }

    /// <summary>Unit and non-unit vectors, including exact face and cell boundaries, compared as leaf ids.</summary>
    [Fact]
    public void Point_to_cell_matches_libs2()
    {
        var points = S2TestPoints.RandomPoints(200_000, seed: 7).Concat(S2TestPoints.BoundaryPoints(seed: 8)).ToArray();
        var expected = new ulong[points.Length];
        S2Reference.S2Reference.Run('P', points.Length,
            input =>
            {
                foreach (var p in points)
                {
                    input.Write(p.X);
                    input.Write(p.Y);
                    input.Write(p.Z);
                }
            },
            output =>
            {
                for (int k = 0; k < expected.Length; k++) expected[k] = output.ReadUInt64();
            });
        for (int k = 0; k < points.Length; k++)
        {
            ulong actual = S2CellId.FromPoint(points[k]).Id;
            Assert.True(expected[k] == actual, $"{points[k]}: libs2 {expected[k]:x16}, ours {actual:x16}");
        }
    }

    /// <summary>Centre, vertices, edge neighbors, range, children, child position and token of cells at all levels.</summary>
    [Fact]
    public void Cell_properties_match_libs2()
    {
        var cells = S2TestPoints.Cells(seed: 99).ToArray();
        S2Reference.S2Reference.Run('C', cells.Length,
            input =>
            {
                foreach (var c in cells) input.Write(c.Id);
            },
            output =>
            {
                foreach (var cell in cells)
                {
                    string where = $"cell {cell.ToToken()} (level {cell.Level})";
                    var ll = cell.ToLatLng();
                    AssertBits(output.ReadDouble(), ll.Latitude, where + " centre latitude");
                    AssertBits(output.ReadDouble(), ll.Longitude, where + " centre longitude");
                    AssertPoint(output, cell.ToPoint(), where + " ToPoint");
                    for (int v = 0; v < 4; v++) AssertPoint(output, cell.GetVertex(v), $"{where} vertex {v}");
                    var neighbors = cell.EdgeNeighbors();
                    for (int e = 0; e < 4; e++) AssertId(output.ReadUInt64(), neighbors[e], $"{where} edge neighbor {e}");
                    AssertId(output.ReadUInt64(), cell.RangeMin, where + " range min");
                    AssertId(output.ReadUInt64(), cell.RangeMax, where + " range max");
                    for (int c = 0; c < 4; c++)
                    {
                        ulong child = output.ReadUInt64();
                        if (!cell.IsLeaf) AssertId(child, cell.Child(c), $"{where} child {c}");
                    }

                    int position = output.ReadInt32();
                    Assert.Equal(position, cell.IsFace ? -1 : cell.ChildPosition());
                    int length = output.ReadByte();
                    var token = new byte[16];
                    output.ReadExactly(token);
                    Assert.Equal(System.Text.Encoding.ASCII.GetString(token, 0, length), cell.ToToken());
                }
            });
    }

    [Fact]
    public void Validity_matches_libs2()
    {
        var rng = new Random(5);
        var ids = new List<ulong> { 0, ulong.MaxValue, 1, 2, 3, 4, 0x1000000000000000, 0xb000000000000000, 0xc000000000000000, 0xd000000000000000, 0xe000000000000000 };
        for (int k = 0; k < 100_000; k++)
        {
            ulong raw = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            ids.Add(raw);
            ids.Add(raw & ~((1UL << rng.Next(64)) - 1)); // trailing zeros at every parity
        }

        var expected = new byte[ids.Count];
        S2Reference.S2Reference.Run('V', ids.Count, input => ids.ForEach(input.Write), output => output.ReadExactly(expected));
        for (int k = 0; k < ids.Count; k++)
        {
            Assert.True((expected[k] == 1) == new S2CellId(ids[k]).IsValid, $"validity of {ids[k]:x16}");
        }
    }

    [Fact]
    public void Token_parsing_matches_libs2()
    {
        var rng = new Random(11);
        const string alphabet = "0123456789abcdefABCDEFXxg -";
        var tokens = new List<string> { "", "X", "x", "1", "0", "00000000000000000", "ffffffffffffffff", "1234567890abcdef0", "10000000000000000000000000000000", "876b e99", " 876bee99", "876[ee99" };
        foreach (var cell in S2TestPoints.Cells(seed: 12).Take(20_000)) tokens.Add(cell.ToToken());
        for (int k = 0; k < 20_000; k++)
        {
            int length = rng.Next(0, 19);
            var chars = new char[length];
            for (int c = 0; c < length; c++) chars[c] = alphabet[rng.Next(k % 2 == 0 ? 16 : alphabet.Length)];
            tokens.Add(new string(chars));
        }

        var expected = new ulong[tokens.Count];
        S2Reference.S2Reference.Run('T', tokens.Count,
            input =>
            {
                foreach (var t in tokens)
                {
                    var buf = new byte[33];
                    buf[0] = (byte)t.Length;
                    System.Text.Encoding.ASCII.GetBytes(t, 0, t.Length, buf, 1);
                    input.Write(buf);
                }
            },
            output =>
            {
                for (int k = 0; k < expected.Length; k++) expected[k] = output.ReadUInt64();
            });
        for (int k = 0; k < tokens.Count; k++)
        {
            ulong actual = S2CellId.TryParseToken(tokens[k], out var id) ? id.Id : 0;
            Assert.True(expected[k] == actual, $"token '{tokens[k]}': libs2 {expected[k]:x16}, ours {actual:x16}");
        }
    }

    private static void AssertPoint(Stream output, S2Point actual, string what)
    {
        AssertBits(output.ReadDouble(), actual.X, what + ".x");
        AssertBits(output.ReadDouble(), actual.Y, what + ".y");
        AssertBits(output.ReadDouble(), actual.Z, what + ".z");
    }

    private static void AssertBits(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual),
            FormattableString.Invariant($"{what}: libs2 {expected:R}, ours {actual:R}"));

    private static void AssertId(ulong expected, S2CellId actual, string what) =>
        Assert.True(expected == actual.Id, $"{what}: libs2 {expected:x16}, ours {actual.Id:x16}");
}

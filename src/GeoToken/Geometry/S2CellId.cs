using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using static GeoToken.Geometry.S2Coords;

namespace GeoToken.Geometry;

/// <summary>
/// A 64-bit S2 cell identifier: a cube face (3 bits) followed by the cell's position along the
/// face's Hilbert curve (2 bits per level) and a trailing 1 bit that encodes the level.
/// Bit-exact with Google's C++ S2 library (<c>S2CellId</c>).
/// </summary>
/// <remarks>
/// Level 0 cells are the six cube faces; level 30 cells (leaves) are about 1 cm across.
/// <see cref="None"/> (id 0) is the invalid id used for "no cell".
/// </remarks>
public readonly struct S2CellId : IEquatable<S2CellId>, IComparable<S2CellId>
{
    /// <summary>The finest level, 30 (leaf cells).</summary>
    public const int MaxLevel = S2Coords.MaxLevel;

    /// <summary>The number of cube faces, 6.</summary>
    public const int FaceCount = 6;

    /// <summary>Creates a cell id from its raw 64-bit value (no validation; see <see cref="IsValid"/>).</summary>
    public S2CellId(ulong id) => Id = id;

    /// <summary>The raw 64-bit value.</summary>
    public ulong Id { get; }

    /// <summary>The invalid id 0, S2's <c>S2CellId::None()</c>.</summary>
    public static S2CellId None => default;

    /// <summary>An invalid id that sorts after every valid one, S2's <c>S2CellId::Sentinel()</c>.</summary>
    public static S2CellId Sentinel => new(ulong.MaxValue);

    /// <summary>The level-0 cell of a cube face.</summary>
    public static S2CellId FromFace(int face)
    {
        CheckFace(face);
        return new(((ulong)face << PosBits) + LowestOnBitForLevel(0));
    }

    /// <summary>The cell at <paramref name="level"/> that contains the leaf at Hilbert position <paramref name="pos"/> on <paramref name="face"/>.</summary>
    public static S2CellId FromFacePosLevel(int face, ulong pos, int level)
    {
        CheckFace(face);
        CheckLevel(level);
        return new S2CellId(((ulong)face << PosBits) + (pos | 1)).Parent(level);
    }

    /// <summary>The leaf cell with face and leaf coordinates (i, j), each in [0, 2³⁰).</summary>
    public static S2CellId FromFaceIJ(int face, int i, int j)
    {
        CheckFace(face);
        if ((uint)i >= LimitIJ) throw new ArgumentOutOfRangeException(nameof(i), i, "i must be in [0, 2^30).");
        if ((uint)j >= LimitIJ) throw new ArgumentOutOfRangeException(nameof(j), j, "j must be in [0, 2^30).");
        return new(S2Coords.FromFaceIJ(face, i, j));
    }

    /// <summary>The leaf cell containing the position given in degrees.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Latitude outside [−90, 90], longitude outside [−180, 180], or not finite.</exception>
    public static S2CellId FromLatLng(double latitude, double longitude) =>
        FromLatLng(new LatLng(latitude, longitude));

    /// <summary>The leaf cell containing <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static S2CellId FromLatLng(LatLng position)
    {
        double phi = LatLng.DegreesToRadians * position.Latitude;
        double theta = LatLng.DegreesToRadians * position.Longitude;
        (double sinPhi, double cosPhi) = Math.SinCos(phi);
        (double sinTheta, double cosTheta) = Math.SinCos(theta);
        return FromPointUnchecked(cosTheta * cosPhi, sinTheta * cosPhi, sinPhi);
    }

    /// <summary>
    /// Leaf cells for many positions at once: <paramref name="latitudes"/>[k], <paramref name="longitudes"/>[k] → <paramref name="destination"/>[k].
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or a coordinate is invalid (the message names its index).</exception>
    public static void FromLatLng(ReadOnlySpan<double> latitudes, ReadOnlySpan<double> longitudes, Span<S2CellId> destination)
    {
        if (latitudes.Length != longitudes.Length || latitudes.Length != destination.Length)
        {
            throw new ArgumentException($"Span lengths differ: {latitudes.Length} latitudes, {longitudes.Length} longitudes, {destination.Length} destinations.");
        }

        for (int k = 0; k < latitudes.Length; k++)
        {
            if (LatLng.TryCreate(latitudes[k], longitudes[k], out var p) is { } error)
            {
                throw new ArgumentException($"Position {k}: {error}.", nameof(latitudes));
            }

            destination[k] = FromLatLng(p);
        }
    }

    /// <summary>The leaf cell containing the direction of <paramref name="point"/> (need not be unit length, must be non-zero and finite).</summary>
    public static S2CellId FromPoint(S2Point point)
    {
        if (!double.IsFinite(point.X) || !double.IsFinite(point.Y) || !double.IsFinite(point.Z) || point.Norm2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(point), point, "The point must be finite and non-zero.");
        }

        return FromPointUnchecked(point.X, point.Y, point.Z);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static S2CellId FromPointUnchecked(double x, double y, double z)
    {
        int face = XYZtoFaceUV(x, y, z, out double u, out double v);
        int i = STtoIJ(UVtoST(u));
        int j = STtoIJ(UVtoST(v));
        return new(S2Coords.FromFaceIJ(face, i, j));
    }

    /// <summary>Parses an S2 token (as written by <see cref="ToToken"/>); "X" is <see cref="None"/>.</summary>
    /// <exception cref="FormatException">The token is not 1–16 hexadecimal digits or "X".</exception>
    public static S2CellId FromToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return TryParseToken(token, out var id)
            ? id
            : throw new FormatException($"'{token}' is not an S2 cell token (1 to 16 hexadecimal digits, or X).");
    }

    /// <summary>Tries to parse an S2 token; returns false when it is not 1–16 hex digits or "X".</summary>
    public static bool TryParseToken(ReadOnlySpan<char> token, out S2CellId id)
    {
        id = None;
        if (token.Length == 1 && (token[0] == 'X' || token[0] == 'x')) return true;
        if (token.Length is 0 or > 16) return false;
        ulong value = 0;
        foreach (char c in token)
        {
            int d = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => -1,
            };
            if (d < 0) return false;
            value = (value << 4) | (uint)d;
        }

        id = new S2CellId(token.Length == 16 ? value : value << (4 * (16 - token.Length)));
        return true;
    }

    /// <summary>The cube face, 0–5.</summary>
    public int Face => (int)(Id >> PosBits);

    /// <summary>The position along the face's Hilbert curve, in units of leaf cells (61 bits, with the level marker).</summary>
    public ulong Pos => Id & (ulong.MaxValue >> 3);

    /// <summary>The level, 0 (face) to 30 (leaf).</summary>
    public int Level => MaxLevel - (BitOperations.TrailingZeroCount(Id) >> 1);

    /// <summary>True for leaf (level-30) cells.</summary>
    public bool IsLeaf => (Id & 1) != 0;

    /// <summary>True for level-0 (face) cells.</summary>
    public bool IsFace => (Id & (LowestOnBitForLevel(0) - 1)) == 0;

    /// <summary>True when the id names a cell: a face 0–5 and a level marker at an even bit position.</summary>
    public bool IsValid => Face < FaceCount && (LowestOnBit & 0x1555555555555555UL) != 0;

    /// <summary>The lowest set bit of the id, which encodes the level.</summary>
    public ulong LowestOnBit => Id & (~Id + 1);

    /// <summary>The lowest set bit of any cell id at <paramref name="level"/>.</summary>
    public static ulong LowestOnBitForLevel(int level) => 1UL << (2 * (MaxLevel - level));

    /// <summary>The edge length of cells at <paramref name="level"/> in leaf units (i/j).</summary>
    public static int SizeIJ(int level) => 1 << (MaxLevel - level);

    /// <summary>The immediate parent (this cell must not be a face).</summary>
    public S2CellId Parent()
    {
        if (IsFace) throw new InvalidOperationException($"{this} is a face cell and has no parent.");
        ulong newLsb = LowestOnBit << 2;
        return new((Id & (~newLsb + 1)) | newLsb);
    }

    /// <summary>The ancestor at <paramref name="level"/> (0 ≤ level ≤ this cell's level).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public S2CellId Parent(int level)
    {
        if ((uint)level > (uint)Level) ThrowParentLevel(level);
        ulong newLsb = LowestOnBitForLevel(level);
        return new((Id & (~newLsb + 1)) | newLsb);
    }

    /// <summary>The child at Hilbert position <paramref name="position"/> (0–3); this cell must not be a leaf.</summary>
    public S2CellId Child(int position)
    {
        if ((uint)position > 3) throw new ArgumentOutOfRangeException(nameof(position), position, "A child position is 0, 1, 2 or 3.");
        if (IsLeaf) throw new InvalidOperationException($"{this} is a leaf cell and has no children.");
        ulong newLsb = LowestOnBit >> 2;
        return new(Id + (ulong)(2 * position + 1 - 4) * newLsb);
    }

    /// <summary>The four children in Hilbert order.</summary>
    public S2CellId[] Children() => [Child(0), Child(1), Child(2), Child(3)];

    /// <summary>This cell's position (0–3) within its parent.</summary>
    public int ChildPosition() => ChildPosition(Level);

    /// <summary>The position (0–3) of this cell's ancestor at <paramref name="level"/> (1–this level) within its own parent.</summary>
    public int ChildPosition(int level)
    {
        if (level < 1 || level > Level)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"Child position is defined for levels 1..{Level} of {this}.");
        }

        return (int)(Id >> (2 * (MaxLevel - level) + 1)) & 3;
    }

    /// <summary>The first leaf cell contained in this cell.</summary>
    public S2CellId RangeMin => new(Id - (LowestOnBit - 1));

    /// <summary>The last leaf cell contained in this cell.</summary>
    public S2CellId RangeMax => new(Id + (LowestOnBit - 1));

    /// <summary>True when <paramref name="other"/> lies inside this cell (a cell contains itself).</summary>
    public bool Contains(S2CellId other) => other.Id >= RangeMin.Id && other.Id <= RangeMax.Id;

    /// <summary>True when the two cells share any leaf.</summary>
    public bool Intersects(S2CellId other) => other.RangeMin.Id <= RangeMax.Id && other.RangeMax.Id >= RangeMin.Id;

    /// <summary>The S2 token: the id in lowercase hex with trailing zeros removed ("X" for <see cref="None"/>).</summary>
    public string ToToken()
    {
        if (Id == 0) return "X";
        int zeroDigits = BitOperations.TrailingZeroCount(Id) / 4;
        return string.Create(16 - zeroDigits, Id >> (4 * zeroDigits), static (span, value) =>
        {
            for (int k = span.Length - 1; k >= 0; k--)
            {
                span[k] = "0123456789abcdef"[(int)(value & 0xF)];
                value >>= 4;
            }
        });
    }

    /// <summary>The face and the (i, j) leaf coordinates of the leaf the id's bits point at (inside the cell, near its centre).</summary>
    public int ToFaceIJ(out int i, out int j) => ToFaceIJOrientation(Id, out i, out j, out _);

    /// <summary>The cell centre in (si, ti) coordinates, S2's <c>GetCenterSiTi</c>.</summary>
    internal int GetCenterSiTi(out uint si, out uint ti)
    {
        int face = ToFaceIJOrientation(Id, out int i, out int j, out _);
        int delta = IsLeaf ? 1 : ((i ^ (int)(Id >> 2)) & 1) != 0 ? 2 : 0;
        si = (uint)(2 * i + delta);
        ti = (uint)(2 * j + delta);
        return face;
    }

    /// <summary>The cell centre as an unnormalised point on the cube face (S2's <c>ToPointRaw</c>).</summary>
    public S2Point ToPointRaw()
    {
        int face = GetCenterSiTi(out uint si, out uint ti);
        return FaceUVtoXYZ(face, STtoUV(SiTitoST(si)), STtoUV(SiTitoST(ti)));
    }

    /// <summary>The cell centre as a unit vector.</summary>
    public S2Point ToPoint() => ToPointRaw().Normalize();

    /// <summary>The cell centre as latitude/longitude in degrees.</summary>
    public LatLng ToLatLng() => ToPointRaw().ToLatLng();

    /// <summary>The cell's bounds in (u, v): [uLo, uHi] × [vLo, vHi].</summary>
    internal (double ULo, double UHi, double VLo, double VHi) BoundUV(out int face)
    {
        face = ToFaceIJOrientation(Id, out int i, out int j, out _);
        int size = SizeIJ(Level);
        int iLo = i & -size, jLo = j & -size;
        return (STtoUV(IJtoSTMin(iLo)), STtoUV(IJtoSTMin(iLo + size)), STtoUV(IJtoSTMin(jLo)), STtoUV(IJtoSTMin(jLo + size)));
    }

    /// <summary>
    /// Corner <paramref name="k"/> (0–3, counter-clockwise from the (u,v) lower-left) as a unit vector,
    /// as S2's <c>S2Cell::GetVertex</c>.
    /// </summary>
    public S2Point GetVertex(int k)
    {
        if ((uint)k > 3) throw new ArgumentOutOfRangeException(nameof(k), k, "A vertex index is 0, 1, 2 or 3.");
        var (uLo, uHi, vLo, vHi) = BoundUV(out int face);
        int jj = (k >> 1) & 1;
        double u = (jj ^ (k & 1)) == 0 ? uLo : uHi;
        double v = jj == 0 ? vLo : vHi;
        return FaceUVtoXYZ(face, u, v).Normalize();
    }

    /// <summary>The four corners, counter-clockwise.</summary>
    public S2Point[] Vertices() => [GetVertex(0), GetVertex(1), GetVertex(2), GetVertex(3)];

    /// <summary>
    /// The four same-level cells that share an edge with this one, in the order down, right, up, left
    /// (in the face's (i, j) frame), crossing cube faces where needed.
    /// </summary>
    public S2CellId[] EdgeNeighbors()
    {
        int level = Level;
        int size = SizeIJ(level);
        int face = ToFaceIJOrientation(Id, out int i, out int j, out _);
        return
        [
            FromFaceIJSame(face, i, j - size, j - size >= 0).Parent(level),
            FromFaceIJSame(face, i + size, j, i + size < LimitIJ).Parent(level),
            FromFaceIJSame(face, i, j + size, j + size < LimitIJ).Parent(level),
            FromFaceIJSame(face, i - size, j, i - size >= 0).Parent(level),
        ];
    }

    private static S2CellId FromFaceIJSame(int face, int i, int j, bool sameFace) =>
        sameFace ? new(S2Coords.FromFaceIJ(face, i, j)) : FromFaceIJWrap(face, i, j);

    // 1 + DBL_EPSILON: (u, v) stay barely outside the face so re-projection cannot land in the wrong leaf.
    private static readonly double WrapLimit = Math.BitIncrement(1.0);

    /// <summary>The leaf cell at (i, j) just beyond the edge of <paramref name="face"/>, re-projected onto the adjacent face.</summary>
    private static S2CellId FromFaceIJWrap(int face, int i, int j)
    {
        i = Math.Max(-1, Math.Min(LimitIJ, i));
        j = Math.Max(-1, Math.Min(LimitIJ, j));
        const double scale = 1.0 / LimitIJ;
        double u = Math.Max(-WrapLimit, Math.Min(WrapLimit, scale * (2 * (i - LimitIJ / 2) + 1)));
        double v = Math.Max(-WrapLimit, Math.Min(WrapLimit, scale * (2 * (j - LimitIJ / 2) + 1)));
        var p = FaceUVtoXYZ(face, u, v);
        face = XYZtoFaceUV(p.X, p.Y, p.Z, out u, out v);
        return new(S2Coords.FromFaceIJ(face, STtoIJ(0.5 * (u + 1)), STtoIJ(0.5 * (v + 1))));
    }

    /// <inheritdoc/>
    public bool Equals(S2CellId other) => Id == other.Id;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is S2CellId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Id.GetHashCode();

    /// <summary>Orders by raw id, which is Hilbert-curve order within a face.</summary>
    public int CompareTo(S2CellId other) => Id.CompareTo(other.Id);

    /// <summary>Equality of raw ids.</summary>
    public static bool operator ==(S2CellId left, S2CellId right) => left.Id == right.Id;

    /// <summary>Inequality of raw ids.</summary>
    public static bool operator !=(S2CellId left, S2CellId right) => left.Id != right.Id;

    /// <summary>Raw-id order.</summary>
    public static bool operator <(S2CellId left, S2CellId right) => left.Id < right.Id;

    /// <summary>Raw-id order.</summary>
    public static bool operator >(S2CellId left, S2CellId right) => left.Id > right.Id;

    /// <summary>Raw-id order.</summary>
    public static bool operator <=(S2CellId left, S2CellId right) => left.Id <= right.Id;

    /// <summary>Raw-id order.</summary>
    public static bool operator >=(S2CellId left, S2CellId right) => left.Id >= right.Id;

    /// <summary>S2's debug form: <c>face/child positions</c>, e.g. <c>5/31200</c>; invalid ids as <c>Invalid: hex</c>.</summary>
    public override string ToString()
    {
        if (!IsValid) return "Invalid: " + Id.ToString("x16", CultureInfo.InvariantCulture);
        int level = Level;
        return string.Create(2 + level, this, static (span, cell) =>
        {
            span[0] = (char)('0' + cell.Face);
            span[1] = '/';
            for (int l = 1; l < span.Length - 1; l++) span[l + 1] = (char)('0' + cell.ChildPosition(l));
        });
    }

    private static void CheckFace(int face)
    {
        if ((uint)face >= FaceCount) throw new ArgumentOutOfRangeException(nameof(face), face, "A face is 0..5.");
    }

    private static void CheckLevel(int level)
    {
        if ((uint)level > MaxLevel) throw new ArgumentOutOfRangeException(nameof(level), level, "A level is 0..30.");
    }

    private void ThrowParentLevel(int level) =>
        throw new ArgumentOutOfRangeException(nameof(level), level, $"The parent level must be in 0..{Level} for {this}.");
}

using GeoToken.Geometry;
using GeoToken.Tokens;

namespace GeoToken.Decoding;

/// <summary>Which tokens keep a row inside a <see cref="DecodingRegion"/>, tracked through each row's prefix cell.</summary>
internal sealed class RegionMask(DecodingRegion? region, GeoTokenizer tokenizer)
{
    /// <summary>Which tokens of <paramref name="position"/> keep a row with prefix cell <paramref name="prefix"/> inside the region.</summary>
    public void Allowed(ulong prefix, bool prefixInside, int position, bool[] allowed)
    {
        if (region is null || prefixInside)
        {
            Array.Fill(allowed, true);
            return;
        }

        for (int k = 0; k < allowed.Length; k++) allowed[k] = region.Intersects(new S2CellId(Child(prefix, position, k)));
    }

    /// <summary>The prefix cell after choosing <paramref name="token"/> at <paramref name="position"/>, and whether it lies inside the region.</summary>
    public (ulong Cell, bool Inside) Advance(ulong prefix, bool prefixInside, int position, int token)
    {
        if (region is null) return (0, true);
        ulong child = Child(prefix, position, token);
        return (child, prefixInside || region.Contains(new S2CellId(child)));
    }

    /// <summary>The cell named by <paramref name="prefix"/> (the cell of positions 0..position−1; unused at position 0) extended by <paramref name="token"/>.</summary>
    private ulong Child(ulong prefix, int position, int token)
    {
        if (position == 0) return S2CellId.FromFace(token).Id;
        int level = tokenizer.LevelOfPrefix(position + 1);
        int markerShift = 2 * (S2CellId.MaxLevel - level);
        ulong parentBits = prefix & ~(prefix & (~prefix + 1)); // clear the parent's marker bit
        return parentBits | ((ulong)token << (markerShift + 1)) | (1UL << markerShift);
    }
}

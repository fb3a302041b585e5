using System.Globalization;
using GeoToken.Geometry;
using GeoToken.Tokens;

namespace GeoToken.Decoding;

/// <summary>
/// Where decoding may go: a union of S2 cells (any levels). A constrained search masks, at every position,
/// the tokens whose cell does not intersect the region, so every decoded sequence names a cell inside it.
/// </summary>
/// <remarks>
/// <para>
/// Exactness: the region is a union of S2 cells, and S2 cells nest, so a token's cell either lies inside a
/// region cell, contains one, or is disjoint from all. A token is allowed when its cell intersects the region;
/// every allowed prefix therefore has at least one allowed continuation (no dead ends), and a full sequence
/// (at the tokenizer's level, coarser than or equal to every region cell's level) is allowed only when its
/// cell lies inside a region cell. So every decoded candidate's cell — and its centre — lies in the region.
/// Region cells must not be finer than the tokenizer's level (the search checks).
/// </para>
/// <para>
/// Boxes: <see cref="FromBox"/> covers a <see cref="LatLngBox"/> with cells that lie entirely inside it, so the
/// guarantee carries over to the box; a thin strip along the box's edges (about one cell of the finest covering
/// level wide) is left out. Instances are immutable and thread-safe.
/// </para>
/// </remarks>
public sealed class DecodingRegion
{
    private readonly ulong[] _min;
    private readonly ulong[] _max;

    private DecodingRegion(S2CellId[] normalized, LatLngBox? box)
    {
        Cells = normalized;
        Box = box;
        _min = normalized.Select(c => c.RangeMin.Id).ToArray();
        _max = normalized.Select(c => c.RangeMax.Id).ToArray();
        MaxLevel = normalized.Max(c => c.Level);
        IsWorld = S2CellId.FaceCount == normalized.Length && normalized.All(c => c.IsFace);
    }

    /// <summary>Every location (the six face cells). Searching with it gives the unconstrained results.</summary>
    public static DecodingRegion World { get; } = FromCells(Enumerable.Range(0, S2CellId.FaceCount).Select(S2CellId.FromFace));

    /// <summary>The region's cells: sorted, none containing another (cells inside others are dropped).</summary>
    public IReadOnlyList<S2CellId> Cells { get; }

    /// <summary>The box this region covers, when built by <see cref="FromBox"/>.</summary>
    public LatLngBox? Box { get; }

    /// <summary>The finest level among <see cref="Cells"/>.</summary>
    public int MaxLevel { get; }

    /// <summary>Whether the region is the whole sphere.</summary>
    public bool IsWorld { get; }

    /// <summary>The union of <paramref name="cells"/> (any levels; duplicates and nested cells are fine).</summary>
    /// <exception cref="ArgumentException">No cells, or an invalid cell id.</exception>
    public static DecodingRegion FromCells(IEnumerable<S2CellId> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var list = new List<S2CellId>();
        foreach (var c in cells)
        {
            if (!c.IsValid) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Cell id {c.Id} (0x{c.Id:x16}) is not a valid S2 cell."), nameof(cells));
            list.Add(c);
        }

        if (list.Count == 0) throw new ArgumentException("A region needs at least one cell.", nameof(cells));
        return new DecodingRegion(Normalize(list), null);
    }

    /// <summary>
    /// The cells (levels 1 … <see cref="BoxCoveringOptions.MaxLevel"/>) that lie entirely inside
    /// <paramref name="box"/>, coarse where possible: an interior covering.
    /// </summary>
    /// <exception cref="ArgumentException">No cell up to the covering's finest level fits inside the box (make MaxLevel finer or the box larger).</exception>
    public static DecodingRegion FromBox(LatLngBox box, BoxCoveringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(box);
        options ??= new BoxCoveringOptions();
        options.Validate();
        var inside = new List<S2CellId>();
        var frontier = Enumerable.Range(0, S2CellId.FaceCount).Select(S2CellId.FromFace).ToList();
        for (int level = 1; level <= options.MaxLevel && frontier.Count > 0; level++)
        {
            // Refine the cells that straddle the boundary (or are faces), unless the budget would overflow.
            if (inside.Count + 4L * frontier.Count > options.MaxCells && inside.Count > 0) break;
            var next = new List<S2CellId>();
            foreach (var parent in frontier)
            {
                foreach (var child in parent.Children())
                {
                    var bound = CellBound.Of(child);
                    if (bound.Inside(box)) inside.Add(child);
                    else if (bound.MayIntersect(box)) next.Add(child);
                }
            }

            frontier = next;
        }

        if (inside.Count == 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"No S2 cell of level ≤ {options.MaxLevel} lies inside the box {box}; raise BoxCoveringOptions.MaxLevel or use a larger box."), nameof(box));
        }

        return new DecodingRegion(Normalize(inside), box);
    }

    /// <summary>Whether <paramref name="cell"/> lies entirely inside the region.</summary>
    public bool Contains(S2CellId cell)
    {
        int i = FirstEndingAtOrAfter(cell.RangeMin.Id);
        return i < _min.Length && _min[i] <= cell.RangeMin.Id && _max[i] >= cell.RangeMax.Id;
    }

    /// <summary>Whether <paramref name="position"/> lies in the region.</summary>
    public bool Contains(LatLng position) => Contains(S2CellId.FromLatLng(position));

    /// <summary>Whether <paramref name="cell"/> shares any point with the region.</summary>
    public bool Intersects(S2CellId cell)
    {
        int i = FirstEndingAtOrAfter(cell.RangeMin.Id);
        return i < _min.Length && _min[i] <= cell.RangeMax.Id;
    }

    /// <summary>Throws unless every region cell is at least as coarse as <paramref name="tokenizer"/>'s level.</summary>
    internal void CheckUsableWith(GeoTokenizer tokenizer)
    {
        if (MaxLevel > tokenizer.Level)
        {
            var fine = Cells.First(c => c.Level > tokenizer.Level);
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The region holds cell {fine.ToToken()} at level {fine.Level}, finer than the model's token level {tokenizer.Level}; decoded cells could not be guaranteed to lie inside it. Use cells of level ≤ {tokenizer.Level} (BoxCoveringOptions.MaxLevel)."));
        }
    }

    /// <summary>Index of the first region cell whose range ends at or after <paramref name="id"/>.</summary>
    private int FirstEndingAtOrAfter(ulong id)
    {
        int lo = 0, hi = _max.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_max[mid] < id) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }

    private static S2CellId[] Normalize(List<S2CellId> cells)
    {
        cells.Sort((a, b) => a.RangeMin.Id != b.RangeMin.Id ? a.RangeMin.Id.CompareTo(b.RangeMin.Id) : b.RangeMax.Id.CompareTo(a.RangeMax.Id));
        var result = new List<S2CellId>(cells.Count);
        foreach (var c in cells)
        {
            // Sorted by start, widest first: a cell inside the previous kept one is redundant.
            if (result.Count > 0 && result[^1].Contains(c)) continue;
            result.Add(c);
        }

        return [.. result];
    }

    /// <summary>The latitude/longitude bound of a cell of level ≥ 1, from its vertices.</summary>
    /// <remarks>
    /// For S2 cells below level 0 the latitude and longitude extremes are attained at the vertices (as used by
    /// S2Cell::GetRectBound), so the vertices' ranges are the cell's. A cell touching a pole has it as a vertex
    /// and spans every longitude. Bounds are widened (for <see cref="MayIntersect"/>) or the box narrowed (for
    /// <see cref="Inside"/>) by <see cref="Margin"/> degrees against rounding.
    /// </remarks>
    private readonly record struct CellBound(double South, double North, double West, double Width, bool AllLongitudes)
    {
        private const double Margin = 1e-9;

        public static CellBound Of(S2CellId cell)
        {
            Span<double> lat = stackalloc double[4];
            Span<double> lng = stackalloc double[4];
            bool pole = false;
            for (int k = 0; k < 4; k++)
            {
                var v = cell.GetVertex(k).ToLatLng();
                lat[k] = v.Latitude;
                lng[k] = v.Longitude;
                if (Math.Abs(v.Latitude) >= 90 - 1e-7) pole = true;
            }

            double south = Min(lat), north = Max(lat);
            if (pole) return new CellBound(south, north, -180, 360, true);

            // The shortest arc holding the four longitudes: the complement of the largest gap between them.
            Span<double> sorted = stackalloc double[4];
            lng.CopyTo(sorted);
            sorted.Sort();
            double bestGap = -1, west = sorted[0];
            for (int k = 0; k < 4; k++)
            {
                double a = sorted[k], b = k == 3 ? sorted[0] + 360 : sorted[k + 1];
                if (b - a > bestGap)
                {
                    bestGap = b - a;
                    west = k == 3 ? sorted[0] : sorted[k + 1];
                }
            }

            return new CellBound(south, north, west, 360 - bestGap, false);
        }

        public bool Inside(LatLngBox box)
        {
            // No margin at the poles: nothing lies beyond them.
            if (South < box.South + (box.South <= -90 ? 0 : Margin) || North > box.North - (box.North >= 90 ? 0 : Margin)) return false;
            if (box.IsFullLongitude) return true;
            if (AllLongitudes) return false;
            double start = box.LongitudeOffset(West);
            return start >= Margin && start + Width <= box.LongitudeWidth - Margin;
        }

        public bool MayIntersect(LatLngBox box)
        {
            if (North < box.South - Margin || South > box.North + Margin) return false;
            if (box.IsFullLongitude || AllLongitudes) return true;

            // Two arcs [a, a + wa] and [b, b + wb] intersect when either starts inside the other.
            double startInBox = box.LongitudeOffset(West);
            if (startInBox <= box.LongitudeWidth + Margin || startInBox >= 360 - Margin) return true;
            double boxStartInCell = ((box.West - West) % 360 + 360) % 360;
            return boxStartInCell <= Width + Margin || boxStartInCell >= 360 - Margin;
        }

        private static double Min(ReadOnlySpan<double> s)
        {
            double m = s[0];
            foreach (var x in s) m = Math.Min(m, x);
            return m;
        }

        private static double Max(ReadOnlySpan<double> s)
        {
            double m = s[0];
            foreach (var x in s) m = Math.Max(m, x);
            return m;
        }
    }
}

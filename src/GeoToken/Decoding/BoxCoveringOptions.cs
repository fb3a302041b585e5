using System.Globalization;
using GeoToken.Geometry;

namespace GeoToken.Decoding;

/// <summary>How <see cref="DecodingRegion.FromBox"/> covers a box with S2 cells.</summary>
public sealed record BoxCoveringOptions
{
    /// <summary>
    /// The finest cell level used (default 12, cells of about 2 km). The strip along the box's edges that no
    /// covering cell reaches is about one cell of the finest level reached wide. Must not be finer than the
    /// model's token level (20 for the paper's tokenizer).
    /// </summary>
    public int MaxLevel { get; init; } = 12;

    /// <summary>
    /// At most this many cells (default 2,000): refinement stops at the level where the next one could exceed
    /// it, even before <see cref="MaxLevel"/>. Larger boxes are thus covered more coarsely along their edges.
    /// </summary>
    public int MaxCells { get; init; } = 2000;

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (MaxLevel is < 1 or > S2CellId.MaxLevel) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BoxCoveringOptions.MaxLevel is {MaxLevel}; it must be in 1..{S2CellId.MaxLevel}."));
        if (MaxCells < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BoxCoveringOptions.MaxCells is {MaxCells}; it must be at least 1."));
    }
}

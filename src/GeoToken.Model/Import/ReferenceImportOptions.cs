using System.Globalization;

namespace GeoToken.Model.Import;

/// <summary>What <see cref="ReferenceCheckpoint.Import"/> cannot read from a reference checkpoint's shapes.</summary>
public sealed record ReferenceImportOptions
{
    /// <summary>Attention heads (default 8, the paper's); a state dict does not record them. Must divide the model dimension.</summary>
    public int HeadCount { get; init; } = 8;

    /// <summary>Retrieved neighbors per query, <c>k</c> (default 15: the reference's forward pass takes the first 15); a state dict does not record it.</summary>
    public int NeighborCount { get; init; } = 15;

    /// <summary>The dropout of the imported model's options, used only if it is trained further (default 0.1, the reference's).</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>
    /// How far the checkpoint's position tables may be from this library's sinusoids (default 1e-4; PyTorch computes them in
    /// float32, this library in float64, so they differ by float32 rounding). Within it, the checkpoint's values are used.
    /// </summary>
    public double PositionTolerance { get; init; } = 1e-4;

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (HeadCount < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"HeadCount is {HeadCount}; it must be at least 1."));
        if (NeighborCount < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"NeighborCount is {NeighborCount}; the reference model reads at least one neighbor."));
        if (!(PositionTolerance >= 0)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"PositionTolerance is {PositionTolerance}; it must be non-negative."));
    }
}

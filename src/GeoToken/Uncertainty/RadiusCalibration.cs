using System.Globalization;

namespace GeoToken.Uncertainty;

/// <summary>
/// Calibrates pool-mass radii on a validation split (split-conformal): a raw radius r holding the
/// nominal mass p of the pool is reported as max(s·r, floor) where the scale s is chosen so that the
/// true location of at least a share p of validation images lies within it. Records the empirical
/// coverage before and after.
/// </summary>
public sealed record RadiusCalibration
{
    /// <summary>The nominal probability mass p (e.g. 0.9).</summary>
    public required double NominalMass { get; init; }

    /// <summary>Multiplier applied to raw radii.</summary>
    public required double Scale { get; init; }

    /// <summary>Smallest reported radius in km (a pool concentrated in one cell still has the cell's size).</summary>
    public required double FloorKm { get; init; }

    /// <summary>Share of validation images whose truth lies within the raw radius.</summary>
    public required double RawCoverage { get; init; }

    /// <summary>Share of validation images whose truth lies within the calibrated radius.</summary>
    public required double CalibratedCoverage { get; init; }

    /// <summary>Validation images used.</summary>
    public required int Count { get; init; }

    /// <summary>The calibrated radius for a raw pool radius.</summary>
    public double Apply(double rawRadiusKm) => Math.Max(rawRadiusKm * Scale, FloorKm);

    /// <summary>Fits the scale from validation raw radii and true errors (km), paired by index.</summary>
    /// <param name="rawRadiiKm">The raw radius of each validation prediction at <paramref name="nominalMass"/>.</param>
    /// <param name="errorsKm">The distance from each prediction to its truth.</param>
    /// <param name="nominalMass">The target coverage p.</param>
    /// <param name="floorKm">Minimum radius (default 1 km).</param>
    public static RadiusCalibration Fit(IReadOnlyList<double> rawRadiiKm, IReadOnlyList<double> errorsKm, double nominalMass, double floorKm = 1)
    {
        ArgumentNullException.ThrowIfNull(rawRadiiKm);
        ArgumentNullException.ThrowIfNull(errorsKm);
        if (rawRadiiKm.Count != errorsKm.Count) throw new ArgumentException($"{rawRadiiKm.Count} radii but {errorsKm.Count} errors.", nameof(errorsKm));
        if (rawRadiiKm.Count == 0) throw new ArgumentException("Calibration needs validation predictions.", nameof(rawRadiiKm));
        if (!(nominalMass > 0 && nominalMass < 1)) throw new ArgumentOutOfRangeException(nameof(nominalMass), nominalMass, "The nominal mass must be in (0, 1).");
        int n = rawRadiiKm.Count;

        // Score of each image: the scale its raw radius needs to cover the truth.
        var needed = new double[n];
        for (int i = 0; i < n; i++)
        {
            double r = Math.Max(rawRadiiKm[i], floorKm);
            needed[i] = errorsKm[i] <= floorKm ? 0 : errorsKm[i] / r;
        }

        Array.Sort(needed);
        int k = Math.Min(n - 1, (int)Math.Ceiling((n + 1) * nominalMass) - 1); // conformal quantile
        double scale = Math.Max(needed[k], 1e-9);
        int raw = 0, calibrated = 0;
        for (int i = 0; i < n; i++)
        {
            if (errorsKm[i] <= rawRadiiKm[i]) raw++;
            if (errorsKm[i] <= Math.Max(rawRadiiKm[i] * scale, floorKm)) calibrated++;
        }

        return new RadiusCalibration
        {
            NominalMass = nominalMass,
            Scale = scale,
            FloorKm = floorKm,
            RawCoverage = (double)raw / n,
            CalibratedCoverage = (double)calibrated / n,
            Count = n,
        };
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"p={NominalMass:P0}: scale {Scale:F2}, coverage raw {RawCoverage:P1} → calibrated {CalibratedCoverage:P1} on {Count} validation images");
}

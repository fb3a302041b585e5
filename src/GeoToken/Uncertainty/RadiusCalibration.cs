using System.Globalization;
using GeoToken.Geometry;

namespace GeoToken.Uncertainty;

/// <summary>
/// Calibrates pool-mass radii on a validation split (split-conformal). A raw radius r holding the nominal
/// mass p of the pool becomes either s·r (<see cref="RadiusCalibrationForm.Scale"/>) or r + a
/// (<see cref="RadiusCalibrationForm.Offset"/>), whichever form gives the smaller median radius on the
/// validation images while covering the truth for a share p of them; radii are kept between
/// <see cref="FloorKm"/> and the antipodal distance (a radius of πR ≈ 20,015 km covers the whole Earth).
/// Records the empirical coverage before and after.
/// </summary>
public sealed record RadiusCalibration
{
    /// <summary>Half the Earth's circumference (πR): no two points are farther apart.</summary>
    public const double WholeEarthKm = Math.PI * Geodesy.EarthRadiusKm;

    /// <summary>The nominal probability mass p (e.g. 0.9).</summary>
    public required double NominalMass { get; init; }

    /// <summary>How raw radii are widened.</summary>
    public RadiusCalibrationForm Form { get; init; } = RadiusCalibrationForm.Scale;

    /// <summary>The multiplier (form <see cref="RadiusCalibrationForm.Scale"/>) or the added km (form <see cref="RadiusCalibrationForm.Offset"/>).</summary>
    public required double Scale { get; init; }

    /// <summary>Smallest reported radius in km (a pool concentrated in one cell still has the cell's size).</summary>
    public required double FloorKm { get; init; }

    /// <summary>Share of validation images whose truth lies within the raw radius.</summary>
    public required double RawCoverage { get; init; }

    /// <summary>Share of validation images whose truth lies within the calibrated radius.</summary>
    public required double CalibratedCoverage { get; init; }

    /// <summary>Median calibrated radius on the validation images, km.</summary>
    public double MedianRadiusKm { get; init; }

    /// <summary>Validation images used.</summary>
    public required int Count { get; init; }

    /// <summary>The calibrated radius for a raw pool radius, in [<see cref="FloorKm"/>, <see cref="WholeEarthKm"/>].</summary>
    public double Apply(double rawRadiusKm) => Widen(Form, Scale, rawRadiusKm, FloorKm);

    /// <summary>Fits the calibration from validation raw radii and true errors (km), paired by index.</summary>
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
        int k = Math.Min(n - 1, (int)Math.Ceiling((n + 1) * nominalMass) - 1); // conformal quantile

        // Conformity score of each image under each form: the multiplier, or the km, its raw radius needs.
        var scales = new double[n];
        var offsets = new double[n];
        for (int i = 0; i < n; i++)
        {
            double r = Math.Max(rawRadiiKm[i], floorKm);
            scales[i] = errorsKm[i] <= floorKm ? 0 : errorsKm[i] / r;
            offsets[i] = Math.Max(0, errorsKm[i] - r);
        }

        Array.Sort(scales);
        Array.Sort(offsets);
        var candidates = new[] { (Form: RadiusCalibrationForm.Scale, Value: Math.Max(scales[k], 1e-9)), (Form: RadiusCalibrationForm.Offset, Value: offsets[k]) };
        RadiusCalibration? best = null;
        foreach (var (form, value) in candidates)
        {
            int raw = 0, calibrated = 0;
            var radii = new double[n];
            for (int i = 0; i < n; i++)
            {
                radii[i] = Widen(form, value, rawRadiiKm[i], floorKm);
                if (errorsKm[i] <= rawRadiiKm[i]) raw++;
                if (errorsKm[i] <= radii[i]) calibrated++;
            }

            Array.Sort(radii);
            var fit = new RadiusCalibration
            {
                NominalMass = nominalMass,
                Form = form,
                Scale = value,
                FloorKm = floorKm,
                RawCoverage = (double)raw / n,
                CalibratedCoverage = (double)calibrated / n,
                MedianRadiusKm = radii[n / 2],
                Count = n,
            };
            if (best is null || fit.MedianRadiusKm < best.MedianRadiusKm) best = fit;
        }

        return best!;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"p={NominalMass:P0}: {(Form == RadiusCalibrationForm.Scale ? $"radius × {Scale:F2}" : $"radius + {Scale:F0} km")}, median {MedianRadiusKm:F0} km; coverage raw {RawCoverage:P1} → calibrated {CalibratedCoverage:P1} on {Count} validation images");

    private static double Widen(RadiusCalibrationForm form, double value, double raw, double floor)
    {
        double r = form == RadiusCalibrationForm.Scale ? raw * value : raw + value;
        return Math.Min(Math.Max(r, floor), WholeEarthKm);
    }
}

/// <summary>How <see cref="RadiusCalibration"/> widens raw radii.</summary>
public enum RadiusCalibrationForm
{
    /// <summary>Multiply by a factor.</summary>
    Scale,

    /// <summary>Add a distance.</summary>
    Offset,
}

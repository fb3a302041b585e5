using static TorchSharp.torch;

namespace GeoToken.Reranking;

/// <summary>
/// The Equal Earth projection (Šavrič, Patterson and Jenny, 2018) of (latitude, longitude) in degrees, scaled as
/// GeoCLIP's location encoder scales it: the projected (x, y) of the unit sphere times 66.50336 / 180.
/// </summary>
/// <remarks>
/// Computed with tensor operations in the input's element type (GeoCLIP feeds float32), in GeoCLIP's order:
/// θ = asin(√3/2 · sin φ); x = 2√3 · λ · cos θ / (3 (9 A₄ θ⁸ + 7 A₃ θ⁶ + 3 A₂ θ² + A₁));
/// y = A₄ θ⁹ + A₃ θ⁷ + A₂ θ³ + A₁ θ; then (x, y) · 66.50336 / 180. φ, λ in radians.
/// At (0, ±180°) x is ±1.0000 (to 7 digits), at the poles y is ±0.4867; the two edges of the antimeridian map to
/// different points (the projection's seam, as in GeoCLIP).
/// </remarks>
public static class EqualEarthProjection
{
    private const double A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796;

    /// <summary>GeoCLIP's scale factor: the projected coordinates are multiplied by this and divided by 180.</summary>
    public const double GeoClipScale = 66.50336;

    /// <summary>Projects <c>[N, 2]</c> (latitude, longitude) in degrees to <c>[N, 2]</c> scaled (x, y), in the input's type and device.</summary>
    /// <exception cref="ArgumentException">The input is not <c>[N, 2]</c> floating point.</exception>
    public static Tensor Project(Tensor latLonDegrees)
    {
        ArgumentNullException.ThrowIfNull(latLonDegrees);
        if (latLonDegrees.dim() != 2 || latLonDegrees.shape[1] != 2 || !is_floating_point(latLonDegrees))
        {
            throw new ArgumentException($"The Equal Earth projection takes [N, 2] floating-point (latitude, longitude) degrees; got {latLonDegrees.dtype} [{string.Join(", ", latLonDegrees.shape)}].", nameof(latLonDegrees));
        }

        using var scope = NewDisposeScope();
        var dtype = latLonDegrees.dtype;
        var sqrt3 = tensor(3.0, dtype: dtype, device: latLonDegrees.device).sqrt();
        var phi = deg2rad(latLonDegrees[.., 0]);
        var lambda = deg2rad(latLonDegrees[.., 1]);
        var theta = (sqrt3 / 2 * phi.sin()).asin();
        var denominator = 3 * (9 * A4 * theta.pow(8) + 7 * A3 * theta.pow(6) + 3 * A2 * theta.pow(2) + A1);
        var x = 2 * sqrt3 * lambda * theta.cos() / denominator;
        var y = A4 * theta.pow(9) + A3 * theta.pow(7) + A2 * theta.pow(3) + A1 * theta;
        return (stack([x, y], 1) * GeoClipScale / 180).MoveToOuterDisposeScope();
    }
}

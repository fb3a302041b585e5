namespace GeoToken.Geometry;

/// <summary>
/// A point in R³, used by S2 to represent positions on the unit sphere. Arithmetic follows
/// Google's S2 library operation for operation so that results are bit-identical.
/// </summary>
/// <param name="X">The x coordinate (towards latitude 0, longitude 0).</param>
/// <param name="Y">The y coordinate (towards latitude 0, longitude 90° E).</param>
/// <param name="Z">The z coordinate (towards the north pole).</param>
public readonly record struct S2Point(double X, double Y, double Z)
{
    /// <summary>The squared Euclidean norm, x·x + y·y + z·z.</summary>
    public double Norm2 => X * X + Y * Y + Z * Z;

    /// <summary>The Euclidean norm.</summary>
    public double Norm => Math.Sqrt(Norm2);

    /// <summary>
    /// Returns this vector scaled to unit length (computed as S2 does: multiplied by 1/‖p‖).
    /// The zero vector is returned unchanged.
    /// </summary>
    public S2Point Normalize()
    {
        double n = Norm;
        if (n != 0) n = 1.0 / n;
        return new S2Point(X * n, Y * n, Z * n);
    }

    /// <summary>The dot product with <paramref name="other"/>.</summary>
    public double DotProd(S2Point other) => X * other.X + Y * other.Y + Z * other.Z;

    /// <summary>
    /// Converts to latitude/longitude in degrees, exactly as S2's <c>S2LatLng(const S2Point&amp;)</c>:
    /// the vector need not be unit length.
    /// </summary>
    public LatLng ToLatLng()
    {
        double lat = Math.Atan2(Z + 0.0, Math.Sqrt(X * X + Y * Y));
        double lng = Math.Atan2(Y + 0.0, X + 0.0);
        return LatLng.FromRadiansUnchecked(lat, lng);
    }

    /// <summary>Formats as <c>(x, y, z)</c> with round-trippable precision.</summary>
    public override string ToString() => FormattableString.Invariant($"({X:R}, {Y:R}, {Z:R})");
}

using System.Globalization;
using GeoToken.Geometry;

namespace GeoToken.Decoding;

/// <summary>
/// A latitude/longitude box in degrees: latitudes <see cref="South"/>…<see cref="North"/>, longitudes
/// eastwards from <see cref="West"/> to <see cref="East"/>. A box with <c>West &gt; East</c> crosses the
/// antimeridian (e.g. West 170, East −170 is 20° wide); <c>West = −180, East = 180</c> is every longitude.
/// </summary>
public sealed record LatLngBox
{
    /// <summary>Creates a box.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A latitude outside [−90, 90], a longitude outside [−180, 180], South &gt; North, or West = East (an empty box).</exception>
    public LatLngBox(double south, double west, double north, double east)
    {
        static void Check(double v, double limit, string name)
        {
            if (!double.IsFinite(v) || v < -limit || v > limit)
            {
                throw new ArgumentOutOfRangeException(name, v, string.Create(CultureInfo.InvariantCulture, $"{name} is {v}; it must be in [-{limit}, {limit}]."));
            }
        }

        Check(south, 90, nameof(south));
        Check(north, 90, nameof(north));
        Check(west, 180, nameof(west));
        Check(east, 180, nameof(east));
        if (south > north) throw new ArgumentOutOfRangeException(nameof(south), south, string.Create(CultureInfo.InvariantCulture, $"south ({south}) is north of north ({north})."));
        if (west == east) throw new ArgumentOutOfRangeException(nameof(west), west, string.Create(CultureInfo.InvariantCulture, $"west equals east ({west}); the box is empty. Use west −180, east 180 for every longitude."));
        South = south;
        West = west;
        North = north;
        East = east;
    }

    /// <summary>The southern latitude, degrees.</summary>
    public double South { get; }

    /// <summary>The western longitude, degrees.</summary>
    public double West { get; }

    /// <summary>The northern latitude, degrees.</summary>
    public double North { get; }

    /// <summary>The eastern longitude, degrees (less than <see cref="West"/> when the box crosses the antimeridian).</summary>
    public double East { get; }

    /// <summary>Whether the box spans every longitude (<c>West = −180, East = 180</c>).</summary>
    public bool IsFullLongitude => West == -180 && East == 180;

    /// <summary>The box's longitude width in degrees, in (0, 360].</summary>
    public double LongitudeWidth => IsFullLongitude ? 360 : ((East - West) % 360 + 360) % 360;

    /// <summary>Whether <paramref name="position"/> lies in the box (edges included).</summary>
    public bool Contains(LatLng position)
    {
        if (position.Latitude < South || position.Latitude > North) return false;
        return IsFullLongitude || LongitudeOffset(position.Longitude) <= LongitudeWidth;
    }

    /// <summary>Degrees eastwards from <see cref="West"/> to <paramref name="longitude"/>, in [0, 360).</summary>
    internal double LongitudeOffset(double longitude) => ((longitude - West) % 360 + 360) % 360;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{South}, {West}] – [{North}, {East}]");
}

using System.Globalization;
using GeoToken.Geometry;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using Directory = MetadataExtractor.Directory;

namespace GeoToken.Photos;

/// <summary>
/// Where and when a photo was taken, from its EXIF metadata (JPEG, PNG, WebP, HEIF, TIFF/raw — what
/// MetadataExtractor reads).
/// </summary>
/// <remarks>
/// <para>The position comes from the EXIF GPS tags: degrees/minutes/seconds rationals with their
/// N/S and E/W references (S and W negate). A photo without GPS tags has no <see cref="Location"/>
/// and no <see cref="GpsProblem"/>. GPS tags that are present but unusable — a missing or invalid
/// hemisphere reference, a zero denominator, a latitude beyond ±90° or longitude beyond ±180°,
/// exactly (0, 0) (what cameras write without a fix), a status of "measurement void" — give no
/// location and a <see cref="GpsProblem"/> saying why: nothing is clamped, wrapped or guessed.</para>
/// </remarks>
public sealed record PhotoMetadata
{
    /// <summary>The photo's path.</summary>
    public required string Path { get; init; }

    /// <summary>Where the photo was taken, or <see langword="null"/> (see <see cref="GpsProblem"/>).</summary>
    public LatLng? Location { get; init; }

    /// <summary>Why GPS tags that are present give no location; <see langword="null"/> when there is a location or no GPS tags at all.</summary>
    public string? GpsProblem { get; init; }

    /// <summary>Altitude in metres above sea level (negative below), when recorded.</summary>
    public double? AltitudeMeters { get; init; }

    /// <summary>When the photo was taken by the camera's clock (EXIF <c>DateTimeOriginal</c>, else <c>DateTimeDigitized</c>); <see cref="DateTimeKind.Unspecified"/>.</summary>
    public DateTime? CaptureTime { get; init; }

    /// <summary>The camera clock's offset from UTC (EXIF 2.31 <c>OffsetTimeOriginal</c>), when recorded.</summary>
    public TimeSpan? CaptureTimeOffset { get; init; }

    /// <summary>The GPS receiver's UTC time of the fix (<c>GPSDateStamp</c> + <c>GPSTimeStamp</c>), when recorded.</summary>
    public DateTimeOffset? GpsTimeUtc { get; init; }

    /// <summary>Reads the metadata of the photo at <paramref name="path"/>. Unusable GPS is reported in <see cref="GpsProblem"/>, not thrown.</summary>
    /// <exception cref="PhotoMetadataException">The file cannot be read, or is not in a format with readable metadata; the message names it.</exception>
    public static PhotoMetadata Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IReadOnlyList<Directory> directories;
        try
        {
            directories = ImageMetadataReader.ReadMetadata(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PhotoMetadataException(path, $"cannot read the file: {e.Message}", e);
        }
        catch (Exception e) when (e is ImageProcessingException or MetadataException)
        {
            throw new PhotoMetadataException(path, $"cannot read its metadata: {e.Message}", e);
        }
        catch (Exception e)
        {
            // MetadataExtractor parses untrusted bytes and lets other exceptions escape on corrupt
            // input (found by fuzzing: InvalidCastException from a damaged XMP packet).
            throw new PhotoMetadataException(path, $"cannot read its metadata, it is corrupt ({e.GetType().Name}: {e.Message})", e);
        }

        var gps = directories.OfType<GpsDirectory>().FirstOrDefault(d => d.ContainsTag(GpsDirectory.TagLatitude) || d.ContainsTag(GpsDirectory.TagLongitude));
        (LatLng? location, string? problem) = gps is null ? (null, null) : ReadPosition(gps);
        var exif = directories.OfType<ExifSubIfdDirectory>().ToList();
        return new PhotoMetadata
        {
            Path = path,
            Location = location,
            GpsProblem = problem,
            AltitudeMeters = gps is null ? null : ReadAltitude(gps),
            CaptureTime = ReadTime(exif, ExifDirectoryBase.TagDateTimeOriginal) ?? ReadTime(exif, ExifDirectoryBase.TagDateTimeDigitized),
            CaptureTimeOffset = ReadOffset(exif),
            GpsTimeUtc = gps is null ? null : ReadGpsTime(gps),
        };
    }

    /// <summary>
    /// The position where the photo at <paramref name="path"/> was taken, or <see langword="null"/>
    /// when it has no GPS tags.
    /// </summary>
    /// <exception cref="PhotoMetadataException">The GPS tags are present but unusable (the message names the file and says why), or the file cannot be read.</exception>
    public static LatLng? ReadGps(string path)
    {
        var m = Read(path);
        if (m.GpsProblem is not null) throw new PhotoMetadataException(path, m.GpsProblem);
        return m.Location;
    }

    private static (LatLng? Location, string? Problem) ReadPosition(GpsDirectory gps)
    {
        if (!gps.ContainsTag(GpsDirectory.TagLatitude)) return (null, "GPS longitude without a GPSLatitude");
        if (!gps.ContainsTag(GpsDirectory.TagLongitude)) return (null, "GPS latitude without a GPSLongitude");
        (double? lat, string? latProblem) = Coordinate(gps, GpsDirectory.TagLatitude, GpsDirectory.TagLatitudeRef, "GPSLatitude", 'N', 'S');
        if (latProblem is not null) return (null, latProblem);
        (double? lon, string? lonProblem) = Coordinate(gps, GpsDirectory.TagLongitude, GpsDirectory.TagLongitudeRef, "GPSLongitude", 'E', 'W');
        if (lonProblem is not null) return (null, lonProblem);

        if (LatLng.TryCreate(lat!.Value, lon!.Value, out LatLng location) is { } rangeError)
        {
            return (null, $"GPS position out of range: {rangeError}");
        }

        if (lat == 0 && lon == 0) return (null, "GPS position is exactly (0, 0), which cameras and apps write when they have no fix");
        string? status = gps.GetString(GpsDirectory.TagStatus)?.Trim();
        if (string.Equals(status, "V", StringComparison.OrdinalIgnoreCase))
        {
            return (null, string.Create(CultureInfo.InvariantCulture, $"GPSStatus is V (measurement void), so the position {location} is not a valid fix"));
        }

        return (location, null);
    }

    private static (double? Value, string? Problem) Coordinate(GpsDirectory gps, int tag, int refTag, string name, char positive, char negative)
    {
        Rational[]? parts = gps.GetRationalArray(tag);
        if (parts is null || parts.Length is < 1 or > 3)
        {
            return (null, $"{name} is not 1–3 rational numbers (degrees, minutes, seconds): '{gps.GetDescription(tag)}'");
        }

        double value = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            Rational r = parts[i];
            if (r.Denominator == 0) return (null, $"{name} has a zero denominator ({string.Join(" ", parts.Select(p => $"{p.Numerator}/{p.Denominator}"))})");
            double v = r.ToDouble();
            if (v < 0 || !double.IsFinite(v)) return (null, string.Create(CultureInfo.InvariantCulture, $"{name} has a negative or invalid component {v}"));
            value += v / (i == 0 ? 1 : i == 1 ? 60 : 3600);
        }

        string? reference = gps.GetString(refTag)?.Trim().TrimEnd('\0');
        if (string.IsNullOrEmpty(reference))
        {
            return (null, string.Create(CultureInfo.InvariantCulture, $"{name}Ref is missing, so the hemisphere of {name} {value} is unknown"));
        }

        char hemisphere = char.ToUpperInvariant(reference[0]);
        if (reference.Length != 1 || (hemisphere != positive && hemisphere != negative))
        {
            return (null, $"{name}Ref is '{reference}'; it must be {positive} or {negative}");
        }

        return (hemisphere == negative ? -value : value, null);
    }

    private static double? ReadAltitude(GpsDirectory gps)
    {
        if (!gps.TryGetRational(GpsDirectory.TagAltitude, out Rational altitude) || altitude.Denominator == 0) return null;
        double metres = altitude.ToDouble();
        return gps.TryGetInt32(GpsDirectory.TagAltitudeRef, out int below) && below == 1 ? -metres : metres;
    }

    private static DateTime? ReadTime(List<ExifSubIfdDirectory> exif, int tag)
    {
        foreach (var d in exif)
        {
            string? text = d.GetString(tag)?.Trim().TrimEnd('\0');
            if (text is not null && DateTime.TryParseExact(text, ["yyyy:MM:dd HH:mm:ss", "yyyy:MM:dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss"],
                CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime t))
            {
                return t;
            }
        }

        return null;
    }

    private static TimeSpan? ReadOffset(List<ExifSubIfdDirectory> exif)
    {
        const int offsetTimeOriginal = 0x9011;
        foreach (var d in exif)
        {
            string? text = d.GetString(offsetTimeOriginal)?.Trim().TrimEnd('\0');
            if (text is { Length: 6 } && (text[0] == '+' || text[0] == '-') &&
                TimeSpan.TryParseExact(text[1..], @"hh\:mm", CultureInfo.InvariantCulture, out TimeSpan offset))
            {
                return text[0] == '-' ? -offset : offset;
            }
        }

        return null;
    }

    private static DateTimeOffset? ReadGpsTime(GpsDirectory gps)
    {
        string? date = gps.GetString(GpsDirectory.TagDateStamp)?.Trim().TrimEnd('\0');
        Rational[]? time = gps.GetRationalArray(GpsDirectory.TagTimeStamp);
        if (date is null || time is not { Length: 3 } || time.Any(r => r.Denominator == 0)) return null;
        if (!DateTime.TryParseExact(date, "yyyy:MM:dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime day)) return null;
        double seconds = (time[0].ToDouble() * 3600) + (time[1].ToDouble() * 60) + time[2].ToDouble();
        if (seconds is < 0 or >= 86400) return null;
        return new DateTimeOffset(day.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond)), TimeSpan.Zero);
    }
}

using System.Globalization;
using GeoToken.Geometry;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Photos;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Photos;

public sealed class PhotoMetadataTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static readonly byte[] PlainJpeg = Fixtures.Encode(Fixtures.Pattern(32, 24), SKEncodedImageFormat.Jpeg, 80);

    private string Write(string name, byte[] bytes)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string WithExif(string name, ExifWriter exif) => Write(name, exif.InsertInto(PlainJpeg));

    [Fact]
    public void The_nine_real_photos_are_near_Arezzo_and_agree_with_exiftool()
    {
        string table = Peer.RunExiftool(["-n", "-T", "-FileName", "-GPSLatitude", "-GPSLongitude", .. TestData.Photos]);
        var expected = table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => (Lat: double.Parse(f[1], CultureInfo.InvariantCulture), Lon: double.Parse(f[2], CultureInfo.InvariantCulture)));
        Assert.Equal(9, expected.Count);
        foreach (string photo in TestData.Photos)
        {
            LatLng p = PhotoMetadata.ReadGps(photo) ?? throw new Xunit.Sdk.XunitException($"{photo}: no GPS");
            Assert.InRange(p.Latitude, 43.46, 43.48);
            Assert.InRange(p.Longitude, 11.87, 11.89);
            var (lat, lon) = expected[Path.GetFileName(photo)];
            Assert.Equal(lat, p.Latitude, 1e-11); // exiftool prints 15 significant digits
            Assert.Equal(lon, p.Longitude, 1e-11);
        }

        // DSCN0010 by hand from its rationals (exiftool -v3): 43/1 28/1 281400000/100000000 N, 11/1 53/1 645599999/100000000 E.
        var m = PhotoMetadata.Read(TestData.Photo("DSCN0010.jpg"));
        Assert.Equal(43 + (28 / 60.0) + (2.814 / 3600), m.Location!.Value.Latitude, 1e-12);
        Assert.Equal(11 + (53 / 60.0) + (6.45599999 / 3600), m.Location!.Value.Longitude, 1e-12);
        Assert.Null(m.GpsProblem);
        Assert.Equal(new DateTime(2008, 10, 22, 16, 28, 39), m.CaptureTime);
        Assert.Null(m.CaptureTimeOffset);
        Assert.Equal(new DateTimeOffset(2008, 10, 23, 14, 27, 7, 240, TimeSpan.Zero), m.GpsTimeUtc);
        Assert.Null(m.AltitudeMeters); // the Nikon writes an altitude reference but no altitude
    }

    [Theory]
    [InlineData(-33.8688, 151.2093)] // Sydney: S, E
    [InlineData(40.7128, -74.006)]   // New York: N, W
    [InlineData(-22.9068, -43.1729)] // Rio de Janeiro: S, W
    [InlineData(64.1466, -21.9426)]  // Reykjavík: N, W
    public void Hemisphere_references_set_the_sign_written_by_us_and_by_exiftool(double lat, double lon)
    {
        // Written by our own EXIF writer, cross-checked by exiftool's reading of the same file.
        string ours = WithExif("ours.jpg", new ExifWriter().Position(lat, lon));
        var p = PhotoMetadata.ReadGps(ours)!.Value;
        Assert.Equal(lat, p.Latitude, 1e-6);
        Assert.Equal(lon, p.Longitude, 1e-6);
        string[] read = Peer.RunExiftool("-n", "-T", "-GPSLatitude", "-GPSLongitude", ours).Trim().Split('\t');
        Assert.Equal(p.Latitude, double.Parse(read[0], CultureInfo.InvariantCulture), 1e-9);
        Assert.Equal(p.Longitude, double.Parse(read[1], CultureInfo.InvariantCulture), 1e-9);

        // Written by exiftool.
        string theirs = Write("theirs.jpg", PlainJpeg);
        Peer.RunExiftool("-q", "-overwrite_original",
            $"-GPSLatitude={Math.Abs(lat).ToString(CultureInfo.InvariantCulture)}", $"-GPSLatitudeRef={(lat < 0 ? "S" : "N")}",
            $"-GPSLongitude={Math.Abs(lon).ToString(CultureInfo.InvariantCulture)}", $"-GPSLongitudeRef={(lon < 0 ? "W" : "E")}", theirs);
        var q = PhotoMetadata.ReadGps(theirs)!.Value;
        Assert.Equal(lat, q.Latitude, 1e-6);
        Assert.Equal(lon, q.Longitude, 1e-6);
    }

    [Fact]
    public void Photos_without_GPS_have_no_location_never_zero_zero()
    {
        string[] files =
        [
            Write("plain.jpg", PlainJpeg),
            WithExif("orientation-only.jpg", new ExifWriter().Orientation(6)),
            WithExif("time-only.jpg", new ExifWriter().DateTimeOriginal("2021:07:04 12:34:56", "-05:00")),
            Write("plain.png", Fixtures.Encode(Fixtures.Pattern(8, 8), SKEncodedImageFormat.Png)),
        ];
        foreach (string f in files)
        {
            Assert.Null(PhotoMetadata.ReadGps(f));
            var m = PhotoMetadata.Read(f);
            Assert.Null(m.Location);
            Assert.Null(m.GpsProblem);
        }

        var timed = PhotoMetadata.Read(files[2]);
        Assert.Equal(new DateTime(2021, 7, 4, 12, 34, 56), timed.CaptureTime);
        Assert.Equal(TimeSpan.FromHours(-5), timed.CaptureTimeOffset);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "lat95", "latitude 95 is outside [-90, 90]" },
        { "lon200", "longitude -200 is outside [-180, 180]" },
        { "zeroden", "GPSLatitude has a zero denominator (43/1 0/0 0/1)" },
        { "noref", "GPSLongitudeRef is missing, so the hemisphere of GPSLongitude 11.5 is unknown" },
        { "badref", "GPSLatitudeRef is 'X'; it must be N or S" },
        { "nullisland", "GPS position is exactly (0, 0)" },
        { "void", "GPSStatus is V (measurement void), so the position 45.5,9.25 is not a valid fix" },
        { "nolon", "GPS latitude without a GPSLongitude" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_GPS_is_reported_with_the_file_not_clamped(string kind, string expected)
    {
        ExifWriter exif = kind switch
        {
            "lat95" => new ExifWriter().Latitude("N", (95, 1), (0, 1), (0, 1)).Longitude("E", (10, 1), (0, 1), (0, 1)),
            "lon200" => new ExifWriter().Latitude("N", (10, 1), (0, 1), (0, 1)).Longitude("W", (200, 1), (0, 1), (0, 1)),
            "zeroden" => new ExifWriter().Latitude("N", (43, 1), (0, 0), (0, 1)).Longitude("E", (11, 1), (0, 1), (0, 1)),
            "noref" => new ExifWriter().Latitude("N", (43, 1), (30, 1), (0, 1)).Longitude(null, (11, 1), (30, 1), (0, 1)),
            "badref" => new ExifWriter().Latitude("X", (43, 1), (30, 1), (0, 1)).Longitude("E", (11, 1), (30, 1), (0, 1)),
            "nullisland" => new ExifWriter().Latitude("N", (0, 1), (0, 1), (0, 1)).Longitude("E", (0, 1), (0, 1), (0, 1)),
            "void" => new ExifWriter().Latitude("N", (45, 1), (30, 1), (0, 1)).Longitude("E", (9, 1), (15, 1), (0, 1)).Status("V"),
            _ => new ExifWriter().Latitude("N", (45, 1), (30, 1), (0, 1)),
        };
        string path = WithExif($"{kind}.jpg", exif);
        var m = PhotoMetadata.Read(path);
        Assert.Null(m.Location);
        Assert.Contains(expected, m.GpsProblem, StringComparison.Ordinal);
        var e = Assert.Throws<PhotoMetadataException>(() => PhotoMetadata.ReadGps(path));
        Assert.Equal($"{path}: {m.GpsProblem}", e.Message);
        Assert.Equal(path, e.PhotoPath);
    }

    [Fact]
    public void Altitude_below_sea_level_is_negative()
    {
        string path = WithExif("deadsea.jpg", new ExifWriter().Position(31.5, 35.5).Altitude(430, 1, belowSeaLevel: true));
        Assert.Equal(-430, PhotoMetadata.Read(path).AltitudeMeters);
        Assert.Equal(120.5, PhotoMetadata.Read(WithExif("hill.jpg", new ExifWriter().Position(31.5, 35.5).Altitude(241, 2, belowSeaLevel: false))).AltitudeMeters);
    }

    [Fact]
    public void Unreadable_and_non_image_files_name_the_file()
    {
        string text = Write("notes.jpg", "not a photo"u8.ToArray());
        var e = Assert.Throws<PhotoMetadataException>(() => PhotoMetadata.Read(text));
        Assert.StartsWith($"{text}: cannot read its metadata", e.Message, StringComparison.Ordinal);
        string missing = _dir.File("missing.jpg");
        e = Assert.Throws<PhotoMetadataException>(() => PhotoMetadata.ReadGps(missing));
        Assert.StartsWith($"{missing}: cannot read the file", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}

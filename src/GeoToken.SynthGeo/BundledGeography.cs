using System.IO.Compression;
using System.Text;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.SynthGeo;

/// <summary>One adaptive S2 cell of MP-16's photo density.</summary>
/// <param name="Cell">The S2 cell.</param>
/// <param name="Photos">MP-16 photos in the cell.</param>
/// <param name="Mean">The mean position of those photos.</param>
public readonly record struct Mp16Cell(S2CellId Cell, int Photos, LatLng Mean);

/// <summary>One IM2GPS3K test image's metadata.</summary>
/// <param name="ImageId">The Flickr file name.</param>
/// <param name="Author">The Flickr user id.</param>
/// <param name="Location">Where it was taken.</param>
/// <param name="S3Label">Places365 coarse scene: 0 indoor, 1 natural, 2 urban.</param>
/// <param name="S365Label">Places365 scene class, 0–364.</param>
public sealed record Im2Gps3kImage(string ImageId, string Author, LatLng Location, int S3Label, int S365Label);

/// <summary>
/// The real geography bundled with SynthGeo (embedded resources, see <c>Data/ATTRIBUTION.md</c>):
/// MP-16's photo density as S2 cells, the IM2GPS3K test set's metadata and GeoCLIP's 100K real MP-16
/// photo coordinates. Each table is parsed on first use and cached.
/// </summary>
public static class BundledGeography
{
    private static readonly Lazy<Mp16Cell[]> CellsLazy = new(LoadCells);
    private static readonly Lazy<Im2Gps3kImage[]> Im2GpsLazy = new(LoadIm2Gps3k);

    /// <summary>MP-16's 12,893 "fine" cells (≤ 1,000 photos each), from <c>mp16_s2_cells_50_1000.csv</c>.</summary>
    public static IReadOnlyList<Mp16Cell> Mp16Cells => CellsLazy.Value;

    /// <summary>IM2GPS3K's 2,997 test images in file order.</summary>
    public static IReadOnlyList<Im2Gps3kImage> Im2Gps3k => Im2GpsLazy.Value;

    internal static Mp16Cell[] CellsArray => CellsLazy.Value;

    internal static Im2Gps3kImage[] Im2GpsArray => Im2GpsLazy.Value;

    /// <summary>Opens an embedded table as text.</summary>
    internal static TextReader Open(string fileName)
    {
        string name = "GeoToken.SynthGeo.Data." + fileName + ".gz";
        var stream = typeof(BundledGeography).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing from GeoToken.SynthGeo.");
        return new StreamReader(new GZipStream(stream, CompressionMode.Decompress), Encoding.UTF8);
    }

    private static Mp16Cell[] LoadCells()
    {
        const string file = "mp16_s2_cells_50_1000.csv";
        using var r = new CsvReader(Open(file), "embedded " + file, skipLines: 2);
        int token = r.RequireColumn("cell token", "hex_id");
        int count = r.RequireColumn("photo count", "imgs_per_cell");
        int lat = r.RequireColumn("latitude", "latitude_mean");
        int lon = r.RequireColumn("longitude", "longitude_mean");
        var cells = new List<Mp16Cell>(13_000);
        while (r.Read())
        {
            if (!S2CellId.TryParseToken(r.Span(token), out var id) || !id.IsValid) throw r.Error(token, $"'{r.GetString(token)}' is not a valid S2 token.");
            if (!int.TryParse(r.Span(count), out int n) || n <= 0) throw r.Error(count, $"'{r.GetString(count)}' is not a positive count.");
            cells.Add(new Mp16Cell(id, n, new LatLng(r.GetLatitude(lat), r.GetLongitude(lon))));
        }

        return [.. cells];
    }

    private static Im2Gps3kImage[] LoadIm2Gps3k()
    {
        const string file = "im2gps3k_places365.csv";
        using var r = new CsvReader(Open(file), "embedded " + file);
        int id = r.RequireColumn("id", "IMG_ID");
        int author = r.RequireColumn("author", "AUTHOR");
        int lat = r.RequireColumn("latitude", "LAT");
        int lon = r.RequireColumn("longitude", "LON");
        int s3 = r.RequireColumn("S3 label", "S3_Label");
        int s365 = r.RequireColumn("S365 label", "S365_Label");
        var rows = new List<Im2Gps3kImage>(3000);
        while (r.Read())
        {
            int a = (int)r.GetDouble(s3), b = (int)r.GetDouble(s365);
            if (a is < 0 or > 2) throw r.Error(s3, $"{a} is not 0, 1 or 2.");
            if (b is < 0 or > 364) throw r.Error(s365, $"{b} is not in 0..364.");
            rows.Add(new Im2Gps3kImage(r.GetString(id), r.GetString(author), new LatLng(r.GetLatitude(lat), r.GetLongitude(lon)), a, b));
        }

        return [.. rows];
    }
}

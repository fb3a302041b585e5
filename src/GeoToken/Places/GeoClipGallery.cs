using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.Places;

/// <summary>
/// GeoCLIP's GPS gallery: 100,000 real photo coordinates drawn from MP-16, bundled (MIT, from the geo-clip repository;
/// see <c>src/GeoToken/Places/Data/ATTRIBUTION.md</c>). The GPS-gallery strategy places an image at the gallery
/// coordinates whose location embeddings are most similar to its image embedding; SynthGeo places its hotspots at them.
/// </summary>
public static class GeoClipGallery
{
    /// <summary>SHA-256 of the uncompressed CSV; checked when the gallery is first read.</summary>
    public const string Sha256 = "3a00b1ba58f13443db726533b6399b39609e292df09d4e58792fa5949d1838b1";

    private const string ResourceName = "GeoToken.Places.Data.geoclip_coordinates_100K.csv.gz";
    private static readonly Lazy<LatLng[]> Lazy = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The 100,000 coordinates, in the file's order (gallery row i is coordinate i).</summary>
    public static IReadOnlyList<LatLng> Coordinates => Lazy.Value;

    private static LatLng[] Load()
    {
        using var stream = typeof(GeoClipGallery).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from GeoToken.");
        using var unzip = new GZipStream(stream, CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        unzip.CopyTo(bytes);
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)));
        if (actual != Sha256) throw new InvalidDataException($"The embedded {ResourceName} has SHA-256 {actual}, not {Sha256}: the assembly is damaged.");
        bytes.Position = 0;
        using var r = new CsvReader(new StreamReader(bytes, Encoding.UTF8), "embedded geoclip_coordinates_100K.csv");
        int lat = r.RequireColumn("latitude", "LAT");
        int lon = r.RequireColumn("longitude", "LON");
        var list = new List<LatLng>(100_000);
        while (r.Read()) list.Add(new LatLng(r.GetLatitude(lat), r.GetLongitude(lon)));
        return [.. list];
    }
}

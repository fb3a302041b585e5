using System.IO.Compression;
using System.Security.Cryptography;
using GeoToken.Places;

namespace GeoToken.Tests.Places;

/// <summary>GeoCLIP's bundled GPS gallery.</summary>
public sealed class GeoClipGalleryTests
{
    [Fact]
    public void The_bundled_coordinates_are_the_100000_of_the_attributed_file()
    {
        var coordinates = GeoClipGallery.Coordinates;
        Assert.Equal(100_000, coordinates.Count);

        // The loader checks this hash itself; recompute it from the embedded bytes independently of the loader.
        using var stream = typeof(GeoClipGallery).Assembly.GetManifestResourceStream("GeoToken.Places.Data.geoclip_coordinates_100K.csv.gz")!;
        using var unzip = new GZipStream(stream, CompressionMode.Decompress);
        Assert.Equal(GeoClipGallery.Sha256, Convert.ToHexStringLower(SHA256.HashData(unzip)));

        // MP-16 is Flickr's geography: most photos in the northern hemisphere, Europe and North America heavily.
        Assert.InRange(coordinates.Count(c => c.Latitude > 0) / 100_000.0, 0.75, 0.98);
    }
}

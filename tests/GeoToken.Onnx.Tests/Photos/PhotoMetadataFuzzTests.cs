using GeoToken.Onnx.Tests.Support;
using GeoToken.Photos;
using GeoToken.Tests.Support;

namespace GeoToken.Onnx.Tests.Photos;

/// <summary>
/// Property-based fuzzing of <see cref="PhotoMetadata"/>: damaged photos (mutations concentrated in
/// the EXIF block at the start) either yield metadata — a location inside the valid range or none,
/// never a silent (0, 0) from garbage — or fail with <see cref="PhotoMetadataException"/> naming the file.
/// </summary>
public sealed class PhotoMetadataFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public Task Damaged_photos_give_metadata_or_a_PhotoMetadataException_naming_the_file()
    {
        byte[][] seeds = [.. TestData.Photos.Take(3).Select(p => File.ReadAllBytes(p)[..40_000])]; // the EXIF block and the start of the scan
        return Fuzz.SampleAsync(ByteMutations.Of(seeds, focus: 16_384), bytes =>
        {
            string path = _dir.File("fuzz.jpg");
            File.WriteAllBytes(path, bytes);
            return Fuzz.ParsesOrFailsDocumented(() =>
            {
                var m = PhotoMetadata.Read(path);
                Assert.True(m.Location is null || m.GpsProblem is null, "a location and a GPS problem at once");
                if (m.Location is { } at)
                {
                    Assert.InRange(at.Latitude, -90, 90);
                    Assert.InRange(at.Longitude, -180, 180);
                }

                Assert.Equal(m.Location, PhotoMetadata.ReadGps(path) ?? m.Location); // ReadGps throws exactly when GpsProblem is set
            }, path, typeof(PhotoMetadataException));
        }, 1500, ByteMutations.Describe);
    }
}

using GeoToken.IO;

namespace GeoToken.Tests.IO;

public sealed class AtomicFileTests
{
    [Fact]
    public void A_failed_write_leaves_the_previous_file_and_no_temporary()
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-atomic").FullName;
        string path = Path.Combine(dir, "report.json");
        AtomicFile.WriteAllText(path, "good");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("good", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
        AtomicFile.WriteAllText(path, "better");
        Assert.Equal("better", File.ReadAllText(path));
        Directory.Delete(dir, true);
    }
}

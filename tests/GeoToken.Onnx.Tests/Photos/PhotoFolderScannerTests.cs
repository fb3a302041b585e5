using GeoToken.IO;
using GeoToken.Imaging;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Photos;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Photos;

public sealed class PhotoFolderScannerTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A folder tree with every kind of file a photo folder holds.</summary>
    private string MakeTree()
    {
        string root = Path.Combine(_dir.Path, "photos");
        string Put(string relative, byte[] bytes)
        {
            string path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        byte[] Real(int i) => File.ReadAllBytes(TestData.Photos[i]);
        Put("DSCN0010.jpg", Real(0));
        Put("trip/day1/DSCN0012.JPG", Real(1));                    // upper-case extension
        Put("trip/day2/DSCN0021.jpeg", Real(2));
        Put("trip/day2/cmyk-no-gps.jpg", File.ReadAllBytes(TestData.CmykJpeg));
        Put("trip/screenshot.png", Fixtures.Encode(Fixtures.Pattern(16, 16), SKEncodedImageFormat.Png));
        Put("trip/png-named.jpg", Fixtures.Encode(Fixtures.Pattern(16, 16), SKEncodedImageFormat.Png));
        Put("trip/bad-gps.jpg", new ExifWriter().Latitude("N", (95, 1), (0, 1), (0, 1)).Longitude("E", (10, 1), (0, 1), (0, 1))
            .InsertInto(Fixtures.Encode(Fixtures.Pattern(16, 16), SKEncodedImageFormat.Jpeg)));
        Put("trip/notes.jpg", "shopping list"u8.ToArray());
        Put("trip/empty.jpg", []);
        Put("phone/IMG_0001.HEIC", [0, 0, 0, 0x18, .. "ftypheic"u8.ToArray(), 0, 0, 0, 0, .. "mif1heic"u8.ToArray(), .. new byte[64]]);
        Put("phone/no-extension", Real(3));                         // found only when sniffing all files
        Put("phone/readme.txt", "hello"u8.ToArray());
        Put("phone/clip.mp4", new byte[100]);
        return root;
    }

    [Fact]
    public async Task Lists_every_photo_with_its_status_position_and_reason()
    {
        string root = MakeTree();
        var progress = new List<PhotoScanProgress>();
        var result = await new PhotoFolderScanner().ScanAsync(root, new SyncProgress(progress.Add), Ct);

        Assert.Equal(
            ["DSCN0010.jpg", "phone/IMG_0001.HEIC", "trip/bad-gps.jpg", "trip/day1/DSCN0012.JPG", "trip/day2/DSCN0021.jpeg", "trip/day2/cmyk-no-gps.jpg", "trip/empty.jpg", "trip/notes.jpg", "trip/png-named.jpg", "trip/screenshot.png"],
            result.Photos.Select(p => p.RelativePath));
        var by = result.Photos.ToDictionary(p => p.RelativePath);
        Assert.Equal(3, result.Usable.Count);
        foreach (var (name, i) in new[] { ("DSCN0010.jpg", 0), ("trip/day1/DSCN0012.JPG", 1), ("trip/day2/DSCN0021.jpeg", 2) })
        {
            Assert.Equal(PhotoStatus.Usable, by[name].Status);
            Assert.Equal(PhotoMetadata.ReadGps(TestData.Photos[i]), by[name].Location);
            Assert.Null(by[name].Problem);
            Assert.Equal(new FileInfo(TestData.Photos[i]).Length, by[name].Length);
            Assert.NotNull(by[name].CaptureTime);
        }

        Assert.Equal((PhotoStatus.NoGps, "no GPS position in its metadata"), (by["trip/day2/cmyk-no-gps.jpg"].Status, by["trip/day2/cmyk-no-gps.jpg"].Problem));
        Assert.Equal((PhotoStatus.NoGps, ImageFileFormat.Png), (by["trip/png-named.jpg"].Status, by["trip/png-named.jpg"].Format));
        Assert.Equal(PhotoStatus.NoGps, by["trip/screenshot.png"].Status);
        Assert.Equal(PhotoStatus.BadGps, by["trip/bad-gps.jpg"].Status);
        Assert.Contains("latitude 95 is outside [-90, 90]", by["trip/bad-gps.jpg"].Problem, StringComparison.Ordinal);
        Assert.Equal((PhotoStatus.NotAnImage, "the file is empty"), (by["trip/empty.jpg"].Status, by["trip/empty.jpg"].Problem));
        Assert.Equal(PhotoStatus.NotAnImage, by["trip/notes.jpg"].Status);
        Assert.Contains("match no image format): 73686F7070696E67", by["trip/notes.jpg"].Problem, StringComparison.Ordinal);
        Assert.Equal((PhotoStatus.UnsupportedFormat, ImageFileFormat.Heif), (by["phone/IMG_0001.HEIC"].Status, by["phone/IMG_0001.HEIC"].Format));

        Assert.Equal(["trip/bad-gps.jpg", "trip/day2/cmyk-no-gps.jpg", "trip/png-named.jpg", "trip/screenshot.png"], result.WithoutGps.Select(p => p.RelativePath));
        Assert.Equal(7, result.Unusable.Count);
        Assert.All(result.Unusable, p => Assert.False(string.IsNullOrEmpty(p.Problem)));
        Assert.Equal(3, result.OtherFiles); // no-extension, readme.txt, clip.mp4
        Assert.Equal("10 photos: 3 usable, 3 without GPS, 1 with unusable GPS, 1 in an unsupported format, 2 not an image; 3 other files", result.Summary());
        Assert.Equal(new PhotoScanProgress(10, 10), progress[^1]);

        // Sniffing every file also finds the photo without an extension.
        var sniffed = await new PhotoFolderScanner(new PhotoScanOptions { SniffAllFiles = true }).ScanAsync(root, cancellationToken: Ct);
        Assert.Equal(PhotoStatus.Usable, sniffed.Photos.Single(p => p.RelativePath == "phone/no-extension").Status);
        Assert.Equal(2, sniffed.OtherFiles);

        var flat = await new PhotoFolderScanner(new PhotoScanOptions { Recursive = false }).ScanAsync(root, cancellationToken: Ct);
        Assert.Equal(["DSCN0010.jpg"], flat.Photos.Select(p => p.RelativePath));
    }

    [Fact]
    public async Task The_report_lists_every_photo_with_its_reason()
    {
        string root = MakeTree();
        Directory.CreateSymbolicLink(Path.Combine(root, "loop"), root);
        var result = await new PhotoFolderScanner().ScanAsync(root, cancellationToken: Ct);
        Assert.Equal([(Path.Combine(root, "loop"), "a symbolic link to a folder (not followed)")], result.Skipped);

        string report = _dir.File("report.csv");
        result.WriteReport(report);
        using var csv = new CsvReader(new StreamReader(report), report);
        Assert.Equal(["path", "status", "lat", "lon", "capture_time", "format", "problem"], csv.Header);
        var rows = new List<string[]>();
        while (csv.Read()) rows.Add([.. Enumerable.Range(0, 7).Select(csv.GetString)]);
        Assert.Equal(11, rows.Count);
        var usable = rows.Single(r => r[0] == "DSCN0010.jpg");
        Assert.Equal(["DSCN0010.jpg", "Usable", result.Photos[0].Location!.Value.Latitude.ToString("R", System.Globalization.CultureInfo.InvariantCulture)], usable[..3]);
        Assert.Equal("2008-10-22T16:28:39", usable[4]);
        var bad = rows.Single(r => r[0] == "trip/bad-gps.jpg");
        Assert.Equal(("BadGps", "", ""), (bad[1], bad[2], bad[3]));
        Assert.Contains("latitude 95", bad[6], StringComparison.Ordinal);
        Assert.Equal(["loop", "SkippedFolder"], rows[^1][..2]);
    }

    [Fact]
    public async Task Missing_folder_and_cancellation()
    {
        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new PhotoFolderScanner().ScanAsync(_dir.File("nope"), cancellationToken: Ct));
        Assert.Contains("nope: the photo folder does not exist", e.Message, StringComparison.Ordinal);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new PhotoFolderScanner().ScanAsync(MakeTree(), cancellationToken: cts.Token));
    }

    public void Dispose() => _dir.Dispose();

    private sealed class SyncProgress(Action<PhotoScanProgress> report) : IProgress<PhotoScanProgress>
    {
        public void Report(PhotoScanProgress value) => report(value);
    }
}

using System.Globalization;
using GeoToken.IO;

namespace GeoToken.Photos;

/// <summary>What a <see cref="PhotoFolderScanner"/> found in a folder.</summary>
public sealed class PhotoScanResult
{
    internal PhotoScanResult(string folder, IReadOnlyList<ScannedPhoto> photos, IReadOnlyList<(string Path, string Reason)> skipped, int otherFiles)
    {
        Folder = folder;
        Photos = photos;
        Skipped = skipped;
        OtherFiles = otherFiles;
    }

    /// <summary>The scanned folder (full path).</summary>
    public string Folder { get; }

    /// <summary>Every candidate image file, usable or not, sorted by <see cref="ScannedPhoto.RelativePath"/> (ordinal).</summary>
    public IReadOnlyList<ScannedPhoto> Photos { get; }

    /// <summary>The photos that can go into a gallery.</summary>
    public IReadOnlyList<ScannedPhoto> Usable => [.. Photos.Where(p => p.IsUsable)];

    /// <summary>Decodable photos without a usable GPS position (no GPS tags, or unusable ones), with the reason.</summary>
    public IReadOnlyList<ScannedPhoto> WithoutGps => [.. Photos.Where(p => p.Status is PhotoStatus.NoGps or PhotoStatus.BadGps)];

    /// <summary>Every photo that is not usable, with the reason.</summary>
    public IReadOnlyList<ScannedPhoto> Unusable => [.. Photos.Where(p => !p.IsUsable)];

    /// <summary>What was not examined, with the reason: unreadable folders, symbolic links to folders, and (with <see cref="PhotoScanOptions.SniffAllFiles"/>) files that could not be read to sniff them.</summary>
    public IReadOnlyList<(string Path, string Reason)> Skipped { get; }

    /// <summary>Files that are not candidate photos (other extensions, and not sniffed as images).</summary>
    public int OtherFiles { get; }

    /// <summary>A one-line summary, e.g. <c>12 photos: 9 usable, 2 without GPS, 1 not an image; 3 other files</c>.</summary>
    public string Summary()
    {
        var parts = new List<string> { $"{Photos.Count(p => p.IsUsable)} usable" };
        foreach (var (status, label) in new[] { (PhotoStatus.NoGps, "without GPS"), (PhotoStatus.BadGps, "with unusable GPS"), (PhotoStatus.UnsupportedFormat, "in an unsupported format"), (PhotoStatus.NotAnImage, "not an image"), (PhotoStatus.Unreadable, "unreadable"), (PhotoStatus.Undecodable, "undecodable") })
        {
            int n = Photos.Count(p => p.Status == status);
            if (n > 0) parts.Add($"{n} {label}");
        }

        string s = $"{Photos.Count} photos: {string.Join(", ", parts)}; {OtherFiles} other files";
        return Skipped.Count > 0 ? $"{s}; {Skipped.Count} folders skipped" : s;
    }

    /// <summary>
    /// Writes every photo (and skipped folder) to a CSV report, atomically:
    /// <c>path,status,lat,lon,capture_time,format,problem</c>, paths relative to the folder.
    /// </summary>
    public void WriteReport(string csvPath) => AtomicFile.Write(csvPath, stream =>
    {
        using var csv = CsvWriter.Create(stream);
        csv.WriteRow("path", "status", "lat", "lon", "capture_time", "format", "problem");
        foreach (var p in Photos)
        {
            csv.Write(p.RelativePath);
            csv.Write(p.Status.ToString());
            if (p.Location is { } l)
            {
                csv.Write(l.Latitude);
                csv.Write(l.Longitude);
            }
            else
            {
                csv.Write(string.Empty);
                csv.Write(string.Empty);
            }

            csv.Write(p.CaptureTime?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) ?? string.Empty);
            csv.Write(p.Format?.ToString() ?? string.Empty);
            csv.Write(p.Problem ?? string.Empty);
            csv.EndRow();
        }

        foreach (var (path, reason) in Skipped)
        {
            csv.WriteRow(Path.GetRelativePath(Folder, path).Replace('\\', '/'), "SkippedFolder", "", "", "", "", reason);
        }
    });
}

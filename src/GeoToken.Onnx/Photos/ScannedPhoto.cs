using GeoToken.Geometry;
using GeoToken.Imaging;

namespace GeoToken.Photos;

/// <summary>One image file found by <see cref="PhotoFolderScanner"/>.</summary>
public sealed record ScannedPhoto
{
    /// <summary>Full path of the file.</summary>
    public required string Path { get; init; }

    /// <summary>Path relative to the scanned folder, with '/' separators (stable across machines; used as the image id).</summary>
    public required string RelativePath { get; init; }

    /// <summary>Whether the photo is usable, and if not, why.</summary>
    public required PhotoStatus Status { get; init; }

    /// <summary>The image format recognised from the file's first bytes, or <see langword="null"/> when none matched.</summary>
    public ImageFileFormat? Format { get; init; }

    /// <summary>Where the photo was taken (also set for <see cref="PhotoStatus.UnsupportedFormat"/> photos whose GPS is readable).</summary>
    public LatLng? Location { get; init; }

    /// <summary>When the photo was taken by the camera's clock, if recorded.</summary>
    public DateTime? CaptureTime { get; init; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; init; }

    /// <summary>Last modification time of the file (UTC).</summary>
    public DateTime LastWriteTimeUtc { get; init; }

    /// <summary>Why the photo is not usable; <see langword="null"/> when it is.</summary>
    public string? Problem { get; init; }

    /// <summary>Whether the photo can go into a gallery (<see cref="Status"/> is <see cref="PhotoStatus.Usable"/>).</summary>
    public bool IsUsable => Status == PhotoStatus.Usable;
}

namespace GeoToken.Photos;

/// <summary>What <see cref="PhotoFolderScanner"/> looks at.</summary>
public sealed record PhotoScanOptions
{
    /// <summary>
    /// File extensions (case-insensitive, with the dot) of candidate photos. Default: JPEG (.jpg, .jpeg,
    /// .jpe, .jfif), .png, .webp, .gif, .bmp, and — listed so they are reported rather than silently
    /// missed — .heic, .heif, .avif, .tif, .tiff, .dng.
    /// </summary>
    public IReadOnlyCollection<string> Extensions { get; init; } =
        [".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".heic", ".heif", ".avif", ".tif", ".tiff", ".dng"];

    /// <summary>Also sniff files with other (or no) extensions and include those whose first bytes are an image. Default <see langword="false"/>.</summary>
    public bool SniffAllFiles { get; init; }

    /// <summary>Descend into subfolders (symbolic links to folders are not followed; they are listed in <see cref="PhotoScanResult.Skipped"/>). Default <see langword="true"/>.</summary>
    public bool Recursive { get; init; } = true;

    /// <summary>Files whose metadata is read at once. Default 4 (reading is mostly I/O).</summary>
    public int Parallelism { get; init; } = 4;
}

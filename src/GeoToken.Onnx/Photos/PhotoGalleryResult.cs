namespace GeoToken.Photos;

/// <summary>What a <see cref="PhotoGalleryBuilder"/> run did.</summary>
public sealed class PhotoGalleryResult
{
    /// <summary>The dataset folder (full path).</summary>
    public required string DatasetFolder { get; init; }

    /// <summary>Rows (photos) in the gallery after the run.</summary>
    public required int Rows { get; init; }

    /// <summary>Photos added to the gallery by this run (relative paths).</summary>
    public required IReadOnlyList<string> Added { get; init; }

    /// <summary>Photos whose content changed since the last run and were encoded again.</summary>
    public required IReadOnlyList<string> Updated { get; init; }

    /// <summary>Photos in the previous gallery that are gone, or no longer usable (e.g. their GPS was removed).</summary>
    public required IReadOnlyList<string> Removed { get; init; }

    /// <summary>Photos kept from the previous gallery without encoding.</summary>
    public required int Unchanged { get; init; }

    /// <summary>New or changed photos whose embedding was taken from an identical file (same SHA-256) already in the gallery instead of encoding.</summary>
    public required int ReusedByHash { get; init; }

    /// <summary>Photos encoded by this run.</summary>
    public required int Encoded { get; init; }

    /// <summary>Whether the dataset files were (re)written; <see langword="false"/> when nothing changed.</summary>
    public required bool DatasetWritten { get; init; }

    /// <summary>Why the previous gallery could not be reused and everything was encoded again, if that happened.</summary>
    public string? RebuildReason { get; init; }

    /// <summary>Every candidate file of the photo folder with its final status (decode failures found while encoding included).</summary>
    public required PhotoScanResult Scan { get; init; }

    /// <summary>Decodable photos left out because they have no usable GPS position, with the reason.</summary>
    public IReadOnlyList<ScannedPhoto> WithoutGps => Scan.WithoutGps;

    /// <summary>Every photo left out of the gallery, with the reason.</summary>
    public IReadOnlyList<ScannedPhoto> Excluded => Scan.Unusable;

    /// <summary>The CSV report of every photo (<see cref="PhotoScanResult.WriteReport"/>) in the dataset folder.</summary>
    public required string ReportPath { get; init; }
}

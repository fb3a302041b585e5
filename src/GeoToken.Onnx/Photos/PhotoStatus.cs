namespace GeoToken.Photos;

/// <summary>Whether a scanned photo can go into a gallery, and if not, why.</summary>
public enum PhotoStatus
{
    /// <summary>A decodable image with a valid GPS position.</summary>
    Usable,

    /// <summary>A decodable image without GPS tags.</summary>
    NoGps,

    /// <summary>GPS tags are present but unusable (see <see cref="ScannedPhoto.Problem"/>).</summary>
    BadGps,

    /// <summary>An image format the decoder cannot read (HEIF/HEIC, AVIF, TIFF and camera raw).</summary>
    UnsupportedFormat,

    /// <summary>The file's content is not an image (empty, or its first bytes match no image format).</summary>
    NotAnImage,

    /// <summary>The file or its metadata cannot be read (I/O error, permissions, corrupt metadata).</summary>
    Unreadable,

    /// <summary>The image data cannot be decoded (truncated or corrupt), found when encoding (<see cref="PhotoGalleryBuilder"/>).</summary>
    Undecodable,
}

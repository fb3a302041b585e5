namespace GeoToken.Photos;

/// <summary>A photo's metadata cannot be read, or its GPS tags are present but unusable; the message names the file.</summary>
public sealed class PhotoMetadataException : IOException
{
    /// <summary>Creates the exception.</summary>
    public PhotoMetadataException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public PhotoMetadataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PhotoMetadataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the photo at <paramref name="path"/>.</summary>
    public PhotoMetadataException(string path, string message, Exception? innerException = null)
        : base($"{path}: {message}", innerException)
    {
        PhotoPath = path;
    }

    /// <summary>The photo's path (null when not given).</summary>
    public string? PhotoPath { get; }
}

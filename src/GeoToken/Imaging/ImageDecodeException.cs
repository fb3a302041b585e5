namespace GeoToken.Imaging;

/// <summary>A file or stream could not be decoded as an image; the message names the source.</summary>
public sealed class ImageDecodeException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ImageDecodeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ImageDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ImageDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="source"/> (a path or a stream's name).</summary>
    public ImageDecodeException(string source, string message, Exception? innerException = null)
        : base($"{source}: {message}", innerException)
    {
        SourceName = source;
    }

    /// <summary>The file path or stream name that failed to decode (null when not given).</summary>
    public string? SourceName { get; }
}

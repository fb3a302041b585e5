namespace GeoToken.Retrieval;

/// <summary>An index is used with a gallery other than the one it was built for (fingerprint mismatch).</summary>
public sealed class GalleryMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public GalleryMismatchException(string message, GalleryFingerprint expected, GalleryFingerprint actual)
        : base(message)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The fingerprint of the gallery the index was built for.</summary>
    public GalleryFingerprint Expected { get; }

    /// <summary>The fingerprint of the gallery given.</summary>
    public GalleryFingerprint Actual { get; }
}

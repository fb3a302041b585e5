namespace GeoToken.Model;

/// <summary>
/// The native libtorch TorchSharp needs cannot be loaded: the application references no libtorch package (or, for
/// the <c>geotoken</c> tool, none is set up). The message names the package to add.
/// </summary>
public sealed class LibTorchNotFoundException : InvalidOperationException
{
    /// <summary>Creates the exception with a message.</summary>
    public LibTorchNotFoundException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the loader's exception.</summary>
    public LibTorchNotFoundException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the default message.</summary>
    public LibTorchNotFoundException() : base("libtorch not found.")
    {
    }
}

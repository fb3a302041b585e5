namespace GeoToken.Onnx;

/// <summary>An ONNX model cannot be used as an image encoder (unreadable, invalid, or of an unsupported shape); the message names the model file.</summary>
public sealed class OnnxModelException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OnnxModelException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public OnnxModelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public OnnxModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

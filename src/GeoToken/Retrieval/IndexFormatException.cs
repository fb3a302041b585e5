namespace GeoToken.Retrieval;

/// <summary>An index file is not a GeoToken cluster index, has an unsupported version, or is damaged.</summary>
public sealed class IndexFormatException : IOException
{
    /// <summary>Creates the exception; the message is prefixed with the file.</summary>
    public IndexFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
    }

    /// <summary>The index file.</summary>
    public string Path { get; }
}

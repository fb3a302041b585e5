namespace GeoToken.Data;

/// <summary>A <c>.npy</c> file is malformed or holds an array GeoToken cannot use. The message names the file and the problem.</summary>
public sealed class NpyFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="message">What is wrong (and, where possible, how to fix it).</param>
    public NpyFormatException(string path, string message)
        : base($"{path}: {message}")
    {
        FilePath = path;
    }

    /// <summary>The file.</summary>
    public string FilePath { get; }
}

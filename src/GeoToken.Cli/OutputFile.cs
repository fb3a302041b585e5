namespace GeoToken.Cli;

/// <summary>The rule for files a command writes: an existing file is replaced only with <c>--force</c>.</summary>
internal static class OutputFile
{
    /// <summary>Throws unless <paramref name="path"/> is absent or <paramref name="force"/> is set.</summary>
    /// <exception cref="IOException">The file exists and <paramref name="force"/> is not set (a failure, exit 1: the command line is fine, the file is in the way).</exception>
    public static void RefuseOverwrite(string path, bool force)
    {
        if (!force && (File.Exists(path) || Directory.Exists(path)))
        {
            throw new IOException($"{path} exists; pass --force to replace it.");
        }
    }
}

namespace GeoToken.Cli;

/// <summary>The rule for files a command writes: an existing file is replaced only with <c>--force</c>.</summary>
internal static class OutputFile
{
    /// <summary>Throws unless <paramref name="path"/> is absent or <paramref name="force"/> is set.</summary>
    /// <exception cref="CliUsageException">The file exists and <paramref name="force"/> is not set.</exception>
    public static void RefuseOverwrite(string path, bool force)
    {
        if (!force && (File.Exists(path) || Directory.Exists(path)))
        {
            throw new CliUsageException($"{path} exists; pass --force to replace it.");
        }
    }
}

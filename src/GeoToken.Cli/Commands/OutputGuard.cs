namespace GeoToken.Cli.Commands;

/// <summary>Keeps commands from replacing files they were not told to replace.</summary>
internal static class OutputGuard
{
    /// <summary>Throws when <paramref name="path"/> exists and <paramref name="force"/> is not set.</summary>
    /// <exception cref="CliUsageException">The file exists.</exception>
    public static void RefuseToOverwrite(string path, bool force)
    {
        if (!force && (File.Exists(path) || Directory.Exists(path)))
        {
            throw new CliUsageException($"'{path}' exists; pass --force to replace it.");
        }
    }
}

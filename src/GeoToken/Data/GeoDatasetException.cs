namespace GeoToken.Data;

/// <summary>
/// A dataset is inconsistent or holds bad values: files disagree in row count, coordinates are
/// invalid, a required file or column is missing. <see cref="Problems"/> lists every problem found
/// (bad coordinates are all reported, each with its row), the message the first ones.
/// </summary>
public sealed class GeoDatasetException : FormatException
{
    /// <summary>Problems listed in the message; more are counted.</summary>
    public const int MaxListed = 20;

    /// <summary>Creates the exception for one problem.</summary>
    public GeoDatasetException(string message)
        : base(message)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception for a list of problems found in <paramref name="source"/>.</summary>
    public GeoDatasetException(string source, IReadOnlyList<string> problems, long totalProblems)
        : base(Describe(source, problems, totalProblems))
    {
        Problems = problems;
        TotalProblems = totalProblems;
    }

    /// <summary>The problems (at most a few thousand are kept).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>How many problems were found in all (may exceed <see cref="Problems"/>'s count).</summary>
    public long TotalProblems { get; } = 1;

    private static string Describe(string source, IReadOnlyList<string> problems, long total)
    {
        var lines = problems.Take(MaxListed).Select(p => "  " + p);
        string more = total > MaxListed ? $"\n  … and {total - MaxListed} more." : string.Empty;
        return $"{source}: {total} bad row{(total == 1 ? "" : "s")}:\n{string.Join('\n', lines)}{more}";
    }
}

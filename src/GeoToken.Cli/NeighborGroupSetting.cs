using System.CommandLine;
using GeoToken.Data;

namespace GeoToken.Cli;

/// <summary>The <c>--neighbor-group</c> option of the commands that compute training neighbors.</summary>
internal static class NeighborGroupSetting
{
    /// <summary>The columns <c>auto</c> looks for, in order: the uploader, then the photo series.</summary>
    public static IReadOnlyList<string> AutoColumns { get; } = ["AUTHOR", "SERIES"];

    public static Option<string> Create() => new("--neighbor-group")
    {
        HelpName = "COLUMN|none|auto",
        Description = "Metadata column whose shared values keep training neighbors apart (a photo's own uploader or series is never its neighbor): "
            + "a column name, none, or auto (AUTHOR, else SERIES, else none).",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>The column to group by for training images in <paramref name="trainDirectory"/>, or null for none.</summary>
    public static string? Resolve(string value, string trainDirectory)
    {
        if (value.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        using var dataset = GeoDataset.Open(trainDirectory);
        if (!value.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return dataset.HasColumn(value)
                ? value
                : throw new CliUsageException($"--neighbor-group {value}: {dataset.MetaPath} has no such column; its columns are {string.Join(", ", dataset.MetaColumns)}.");
        }

        return AutoColumns.FirstOrDefault(dataset.HasColumn);
    }
}

namespace GeoToken.Retrieval;

/// <summary>The outcome of <see cref="ClusterIndex.BuildFile"/>.</summary>
public sealed record IndexBuildReport
{
    /// <summary>The index file written.</summary>
    public required string Path { get; init; }

    /// <summary>Gallery rows indexed.</summary>
    public required long Rows { get; init; }

    /// <summary>Nodes per tree level, top first (the last entry counts the leaves).</summary>
    public required IReadOnlyList<int> NodesPerLevel { get; init; }

    /// <summary>The default beam widths recorded in the file.</summary>
    public required IReadOnlyList<int> DefaultProbes { get; init; }

    /// <summary>The default leaf margin recorded in the file (null: the default beam scans all its leaves).</summary>
    public double? DefaultLeafMargin { get; init; }

    /// <summary>Time to build the tree (validation, sampling, k-means, assignment, splitting).</summary>
    public required TimeSpan BuildTime { get; init; }

    /// <summary>Time to write the file.</summary>
    public required TimeSpan WriteTime { get; init; }

    /// <summary>File size in bytes.</summary>
    public required long FileBytes { get; init; }
}

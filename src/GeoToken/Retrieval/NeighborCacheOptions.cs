namespace GeoToken.Retrieval;

/// <summary>Settings of <see cref="NeighborCache"/>.</summary>
public sealed record NeighborCacheOptions
{
    /// <summary>
    /// Where neighbour files are kept (default: a <c>neighbors</c> folder inside the query dataset's folder).
    /// Set it when the dataset folder is read-only.
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>A cluster index of the gallery (<c>geotoken index</c>) to search through; null searches exactly.</summary>
    public string? IndexPath { get; init; }

    /// <summary>Search threads (default: all cores).</summary>
    public int? MaxDegreeOfParallelism { get; init; }
}

namespace GeoToken.Retrieval;

/// <summary>What a search did and how fast.</summary>
public sealed record SearchStatistics
{
    /// <summary>"exact" or "cluster".</summary>
    public required string Method { get; init; }

    /// <summary>The similarity kernel used.</summary>
    public required string Kernel { get; init; }

    /// <summary>Queries searched.</summary>
    public required long Queries { get; init; }

    /// <summary>Neighbors per query.</summary>
    public required int K { get; init; }

    /// <summary>Gallery rows.</summary>
    public required long GalleryRows { get; init; }

    /// <summary>Wall-clock time of the search, including writing to the sink.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary><see cref="Elapsed"/> in seconds (for JSON reports).</summary>
    public double ElapsedSeconds => Elapsed.TotalSeconds;

    /// <summary>Query–gallery similarities computed (excluding cluster centroids).</summary>
    public required long VectorsCompared { get; init; }

    /// <summary>Queries whose beam reached fewer than K gallery rows and were answered by exact search instead (cluster search only).</summary>
    public long FallbackQueries { get; init; }

    /// <summary>Queries per second.</summary>
    public double QueriesPerSecond => Elapsed.TotalSeconds > 0 ? Queries / Elapsed.TotalSeconds : double.PositiveInfinity;

    /// <summary>Mean fraction of the gallery compared per query (1 for exact search).</summary>
    public double ScannedFraction => Queries == 0 || GalleryRows == 0 ? 0 : (double)VectorsCompared / Queries / GalleryRows;
}

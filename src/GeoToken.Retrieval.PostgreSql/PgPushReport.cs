namespace GeoToken.Retrieval;

/// <summary>What a push did (<see cref="PgGalleryPush.PushAsync"/>).</summary>
public sealed record PgPushReport
{
    /// <summary>The gallery table.</summary>
    public required string Table { get; init; }

    /// <summary>The dataset's content identity, recorded in the metadata table.</summary>
    public required string ContentId { get; init; }

    /// <summary>The dataset's rows.</summary>
    public required long DatasetRows { get; init; }

    /// <summary>Rows this push inserted.</summary>
    public required long RowsAdded { get; init; }

    /// <summary>Rows of copied chunks not inserted because their image id was already in the table (e.g. added live).</summary>
    public required long RowsAlreadyPresent { get; init; }

    /// <summary>Chunks skipped because every row of theirs was present (an earlier or interrupted push loaded them).</summary>
    public required int ChunksSkipped { get; init; }

    /// <summary>Chunks copied by this push.</summary>
    public required int ChunksLoaded { get; init; }

    /// <summary>Rows in the table after the push (dataset rows present plus live additions).</summary>
    public required long TableRows { get; init; }

    /// <summary>Whether this push built the HNSW index (false: it existed, or <see cref="PgPushOptions.BuildIndex"/> was off).</summary>
    public required bool IndexBuilt { get; init; }

    /// <summary>Time spent loading rows.</summary>
    public required TimeSpan LoadTime { get; init; }

    /// <summary>Time spent building the index.</summary>
    public required TimeSpan IndexTime { get; init; }

    /// <summary>The table's size on disk with its TOAST data, without indexes (bytes).</summary>
    public required long TableBytes { get; init; }

    /// <summary>The HNSW index's size on disk (bytes; 0 without an index).</summary>
    public required long IndexBytes { get; init; }
}

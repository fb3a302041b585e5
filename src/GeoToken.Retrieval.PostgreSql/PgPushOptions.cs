namespace GeoToken.Retrieval;

/// <summary>How <see cref="PgGalleryPush.PushAsync"/> loads a dataset into a gallery table.</summary>
public sealed record PgPushOptions
{
    /// <summary>The gallery table (created when missing; see <see cref="PgGalleryAddress.CheckTableName"/>).</summary>
    public string Table { get; init; } = PgGalleryAddress.DefaultTable;

    /// <summary>
    /// Rows per chunk (default 10,000). Each chunk is copied and committed in one transaction, so an interrupted push
    /// loses at most one chunk's work; a chunk whose rows are all present is skipped.
    /// </summary>
    public int ChunkRows { get; init; } = 10_000;

    /// <summary>Build the HNSW index after loading (default true; it is built once, when missing).</summary>
    public bool BuildIndex { get; init; } = true;

    /// <summary>HNSW graph degree <c>m</c> (pgvector's default 16).</summary>
    public int HnswM { get; init; } = 16;

    /// <summary>HNSW build candidate list <c>ef_construction</c> (pgvector's default 64).</summary>
    public int EfConstruction { get; init; } = 64;

    /// <summary>
    /// <c>maintenance_work_mem</c> for the index build, in MB (default 1024; pgvector builds much faster when the graph
    /// fits). Null: the server's setting.
    /// </summary>
    public int? MaintenanceWorkMemMB { get; init; } = 1024;

    /// <summary><c>max_parallel_maintenance_workers</c> for the index build; null (default): the server's setting.</summary>
    public int? ParallelWorkers { get; init; }

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        PgGalleryAddress.CheckTableName(Table);
        if (ChunkRows < 1) throw new ArgumentException($"PgPushOptions.ChunkRows is {ChunkRows}; it must be at least 1.");
        if (HnswM is < 2 or > 100) throw new ArgumentException($"PgPushOptions.HnswM is {HnswM}; pgvector accepts 2…100.");
        if (EfConstruction < 2 * HnswM || EfConstruction > 1000) throw new ArgumentException($"PgPushOptions.EfConstruction is {EfConstruction}; pgvector accepts 2·m ({2 * HnswM})…1000.");
        if (MaintenanceWorkMemMB is < 1) throw new ArgumentException($"PgPushOptions.MaintenanceWorkMemMB is {MaintenanceWorkMemMB}; it must be at least 1.");
        if (ParallelWorkers is < 0) throw new ArgumentException($"PgPushOptions.ParallelWorkers is {ParallelWorkers}; it must be at least 0.");
    }
}

namespace GeoToken.Retrieval;

/// <summary>How a <see cref="PgGallery"/> answers searches through <see cref="INeighborSearch.SearchAsync"/>.</summary>
public sealed record PgSearchOptions
{
    /// <summary>
    /// HNSW candidate list size (<c>hnsw.ef_search</c>, pgvector's default 40); raised to K when K is larger (the index
    /// returns at most ef_search rows per scan). Higher: better recall, slower. At most 1000.
    /// </summary>
    public int EfSearch { get; init; } = 40;

    /// <summary>
    /// Exact search: the index is not used (<c>enable_indexscan = off</c>), every row is compared and ties are broken by the
    /// lower row. Default false (HNSW when the index exists).
    /// </summary>
    public bool Exact { get; init; }

    /// <summary>
    /// pgvector 0.8 iterative scans for filtered searches (ExcludeSelf, <see cref="RowLimit"/>): <c>strict_order</c>
    /// (default) keeps scanning the index until K rows pass the filter, in distance order; <c>relaxed_order</c> may return
    /// them slightly out of order (they are re-sorted here); <c>off</c> may return fewer than K rows (an error then).
    /// </summary>
    public string IterativeScan { get; init; } = "strict_order";

    /// <summary>Queries sent per round trip (one statement each, in one batch). Default 64.</summary>
    public int QueriesPerRoundTrip { get; init; } = 64;

    /// <summary>Round trips in flight at once (connections used by one search call). Default: the processor count.</summary>
    public int Connections { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Only rows numbered below this are searched, and <see cref="INeighborSearch.GalleryRows"/> reports it: a fixed
    /// snapshot of a gallery that grows (e.g. matching a local copy of its rows). Default null: every row, including
    /// those added since the gallery was opened.
    /// </summary>
    public long? RowLimit { get; init; }

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (EfSearch is < 1 or > 1000) throw new ArgumentException($"PgSearchOptions.EfSearch is {EfSearch}; pgvector accepts 1…1000.");
        if (IterativeScan is not ("strict_order" or "relaxed_order" or "off")) throw new ArgumentException($"PgSearchOptions.IterativeScan is '{IterativeScan}'; use strict_order, relaxed_order or off.");
        if (QueriesPerRoundTrip < 1) throw new ArgumentException($"PgSearchOptions.QueriesPerRoundTrip is {QueriesPerRoundTrip}; it must be at least 1.");
        if (Connections < 1) throw new ArgumentException($"PgSearchOptions.Connections is {Connections}; it must be at least 1.");
        if (RowLimit is < 1) throw new ArgumentException($"PgSearchOptions.RowLimit is {RowLimit}; it must be at least 1.");
    }
}

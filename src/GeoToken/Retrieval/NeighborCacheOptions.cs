namespace GeoToken.Retrieval;

/// <summary>Settings of <see cref="NeighborCache"/>.</summary>
public sealed record NeighborCacheOptions
{
    /// <summary>
    /// Where neighbor files are kept (default: a <c>neighbors</c> folder inside the query dataset's folder).
    /// Set it when the dataset folder is read-only.
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>A cluster index of the gallery (<c>geotoken index</c>) to search through; null searches exactly.</summary>
    public string? IndexPath { get; init; }

    /// <summary>
    /// A metadata column (e.g. <c>AUTHOR</c> or <c>SERIES</c>) whose shared values keep neighbors apart when the
    /// queries are the gallery itself (training neighbors): a row's neighbors are its nearest rows with a different
    /// value there (rows with an empty value only skip themselves). A test photo's own series or uploader is not in
    /// the gallery, so training on near-duplicates from the query's own group teaches the model to trust its
    /// neighbors more than it should. Default null: only the row itself is skipped. Other query sets are unaffected.
    /// </summary>
    public string? GroupColumn { get; init; }

    /// <summary>
    /// The search that computes missing neighbor files (any <see cref="INeighborSearch"/>, e.g. an engine in another
    /// package; not disposed here); null opens the exact search or the cluster index of <see cref="IndexPath"/>. Files
    /// computed by it are named and recorded with its <see cref="INeighborSearch.Method"/>. Ensure waits for it
    /// synchronously.
    /// </summary>
    public INeighborSearch? Search { get; init; }

    /// <summary>Search threads of the exact search or cluster index opened here (default: all cores).</summary>
    public int? MaxDegreeOfParallelism { get; init; }
}

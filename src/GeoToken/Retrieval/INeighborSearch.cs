namespace GeoToken.Retrieval;

/// <summary>
/// The retrieval contract: the k most similar gallery rows of each query in a batch, best first, with their cosine
/// similarities. Everything that needs neighbors — the predictor, the evaluation, training neighbor files — reads
/// them through this interface, so a search engine in another package (e.g. a database gallery) plugs in by
/// implementing it.
/// </summary>
/// <remarks>
/// <para>
/// Implementations here: <see cref="ExactIndex"/> (brute force), <see cref="ClusterIndex"/> (hierarchical k-means
/// tree) and <see cref="PrecomputedNeighborSearch"/> (neighbor files, answered by query row).
/// </para>
/// <para>
/// What an implementation promises: per query exactly <see cref="NeighborQueries.K"/> gallery rows in
/// [0, <see cref="GalleryRows"/>), most similar first (equal similarities: lower row first), with the cosine
/// similarity of each; with <see cref="NeighborQueries.ExcludeSelf"/> query row <c>r</c> never gets gallery row
/// <c>r</c>. Callers check the shape and the row range of what comes back
/// (<see cref="NeighborResults.CheckFrom"/>). Searching must be safe to call concurrently; the caller owns (and
/// disposes) the search.
/// </para>
/// </remarks>
public interface INeighborSearch
{
    /// <summary>A short name of the method for messages and logs (e.g. <c>exact</c>, <c>cluster</c>, <c>neighbor file</c>).</summary>
    string Method { get; }

    /// <summary>The gallery's size: result rows are in [0, GalleryRows).</summary>
    long GalleryRows { get; }

    /// <summary>The dimension of the vectors searched (query vectors must have it).</summary>
    int Dimension { get; }

    /// <summary>
    /// An identity of the gallery whose rows are returned, for messages and provenance (an index: its
    /// <see cref="GalleryFingerprint.Sha256"/>; neighbor files: the gallery dataset's content id); null when unknown.
    /// Identities of different implementations are not comparable.
    /// </summary>
    string? GalleryId { get; }

    /// <summary>The neighbors of the queries <see cref="NeighborQueries.Start"/> … Start + Count − 1, in query order.</summary>
    /// <exception cref="ArgumentException">The queries do not fit the gallery (dimension, K, range); the message says how.</exception>
    /// <exception cref="InvalidVectorException">A query vector is zero or not finite.</exception>
    ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default);
}

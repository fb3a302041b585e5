using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Neighbour files computed once and reused: the k nearest gallery images of every query, as the paper
/// precomputes them. Training neighbours (queries = gallery) exclude the image itself. Files are named
/// after the fingerprints of both datasets, so changed data never reuses stale neighbours.
/// </summary>
public static class NeighborCache
{
    /// <summary>
    /// Returns the prefix of neighbour files (<c>PREFIX_I.npy</c>, <c>PREFIX_D.npy</c>) of
    /// <paramref name="queries"/> in <paramref name="gallery"/> with at least <paramref name="k"/>
    /// neighbours per query, computing and writing them (atomically) when they do not exist yet.
    /// </summary>
    /// <param name="queries">The query dataset.</param>
    /// <param name="gallery">The gallery dataset (the same object or folder for training neighbours).</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="options">Where to keep the files and how to search.</param>
    /// <param name="progress">Search progress, when a search runs.</param>
    /// <param name="cancellationToken">Cancels the search; no partial file is left.</param>
    public static string Ensure(GeoDataset queries, GeoDataset gallery, int k, NeighborCacheOptions? options = null, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(gallery);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        options ??= new NeighborCacheOptions();
        bool self = SameDataset(queries, gallery);
        string queryFolder = Path.GetDirectoryName(Path.GetFullPath(queries.MetaPath))!;
        string dir = options.Directory ?? Path.Combine(queryFolder, "neighbors");
        // Named after the content of both sides, so regenerated or different datasets never reuse stale files.
        string queryPrint = GalleryFingerprint.Compute(queries.Image).Sha256[..12];
        string name = self
            ? $"self-{queryPrint}_k{k}"
            : $"{queryPrint}-in-{GalleryFingerprint.Compute(gallery.Image).Sha256[..12]}_k{k}";
        string prefix = Path.Combine(dir, name);
        if (IsUsable(prefix, queries.Rows, k)) return prefix;

        Directory.CreateDirectory(dir);
        using var index = NeighborIndex.Open(gallery.Image, options.IndexPath, cancellationToken);
        using var sink = new NeighborFileWriter(prefix);
        index.Search(queries.Image, new SearchOptions { K = k, ExcludeSelf = self, MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, sink, progress, cancellationToken);
        return prefix;
    }

    /// <summary>Whether two datasets are the same files (same folder and meta file).</summary>
    public static bool SameDataset(GeoDataset a, GeoDataset b) =>
        ReferenceEquals(a, b) || string.Equals(Path.GetFullPath(a.MetaPath), Path.GetFullPath(b.MetaPath), StringComparison.Ordinal);

    private static bool IsUsable(string prefix, long rows, int k)
    {
        if (!File.Exists(prefix + "_I.npy") || !File.Exists(prefix + "_D.npy")) return false;
        try
        {
            using var f = NeighborFile.Open(prefix);
            return f.QueryCount == rows && f.K >= k;
        }
        catch (Exception e) when (e is NpyFormatException or InvalidDataException or IOException)
        {
            return false; // unreadable or stale: recompute over it
        }
    }
}

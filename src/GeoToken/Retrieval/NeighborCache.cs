using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Neighbor files computed once and reused: the k nearest gallery images of every query, as the paper
/// precomputes them. Training neighbors (queries = gallery) exclude the image itself. Files are named
/// after the fingerprints of both datasets and carry a sidecar (<c>PREFIX.json</c>) with their SHA-256 and the
/// <see cref="GeoDataset.ContentId"/> of both datasets, checked before every reuse: changed data or changed
/// files never reuse stale neighbors (they are recomputed).
/// </summary>
public static class NeighborCache
{
    /// <summary>
    /// Returns the prefix of neighbor files (<c>PREFIX_I.npy</c>, <c>PREFIX_D.npy</c>) of
    /// <paramref name="queries"/> in <paramref name="gallery"/> with at least <paramref name="k"/>
    /// neighbors per query, computing and writing them (atomically) when they do not exist yet.
    /// </summary>
    /// <param name="queries">The query dataset.</param>
    /// <param name="gallery">The gallery dataset (the same object or folder for training neighbors).</param>
    /// <param name="k">Neighbors per query.</param>
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
        var groups = self && options.GroupColumn is { } column ? NeighborGroups.Read(queries, column, cancellationToken) : null;
        string queryFolder = Path.GetDirectoryName(Path.GetFullPath(queries.MetaPath))!;
        string dir = options.Directory ?? Path.Combine(queryFolder, "neighbors");
        // Named after the content of both sides, so regenerated or different datasets never reuse stale files.
        string queryPrint = GalleryFingerprint.Compute(queries.Image).Sha256[..12];
        string name = self
            ? $"self-{queryPrint}{(groups is null ? "" : "-g" + groups.Fingerprint)}_k{k}"
            : $"{queryPrint}-in-{GalleryFingerprint.Compute(gallery.Image).Sha256[..12]}_k{k}";
        // A search of another kind (options.Search) is named and recorded, so it never reuses files of exact search.
        string? engine = options.Search is { } custom ? custom.Method : null;
        if (engine is not null) name += "-" + new string([.. engine.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
        string prefix = Path.Combine(dir, name);
        string? settings = self ? (groups is null ? "self, excluding each row" : $"self, excluding each row's '{groups.Column}' group ({groups.Fingerprint})") : null;
        if (engine is not null) settings = settings is null ? $"search: {engine}" : $"{settings}; search: {engine}";
        var provenance = new NeighborFileProvenance(queries.ContentId, gallery.ContentId, settings);
        if (IsUsable(prefix, queries.Rows, k, provenance)) return prefix;

        Directory.CreateDirectory(dir);
        using var opened = options.Search is null ? NeighborIndex.Open(gallery.Image, options.IndexPath, cancellationToken) : null;
        if (opened is not null) opened.SearchDefaults = new SearchOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism };
        INeighborSearch search = opened ?? options.Search!;
        if (search.GalleryRows != gallery.Rows || search.Dimension != gallery.Dimension)
        {
            throw new ArgumentException($"The {search.Method} search covers {search.GalleryRows} rows of dimension {search.Dimension}, but the gallery {gallery.MetaPath} has {gallery.Rows} rows of dimension {gallery.Dimension}.", nameof(options));
        }

        // Self-search reads the gallery's own matrix, so that the index recognises it as the gallery.
        var rows = self ? gallery.Image : queries.Image;
        using var sink = new NeighborFileWriter(prefix, provenance);
        if (groups is null)
        {
            search.SearchInto(rows, k, self, sink, progress, cancellationToken).GetAwaiter().GetResult();
        }
        else
        {
            SearchOutsideGroups(search, rows, groups, k, sink, progress, cancellationToken);
        }

        return prefix;
    }

    /// <summary>
    /// Self-search whose neighbors skip each row's group: one search for k + (largest group − 1) neighbors when that
    /// is at most <see cref="MaxGroupExtra"/> more than k; rows of larger groups are searched first, in small batches
    /// sorted by group size, each asking for exactly enough neighbors.
    /// </summary>
    private static void SearchOutsideGroups(INeighborSearch search, FeatureMatrix rows, NeighborGroups groups, int k, INeighborSink sink, IProgress<SearchProgress>? progress, CancellationToken cancellationToken)
    {
        long others = rows.Rows - 1;
        int extra = (int)Math.Min(Math.Min(groups.LargestGroup - 1, MaxGroupExtra), Math.Max(0, others - k));
        var large = new List<long>();
        for (long r = 0; r < rows.Rows; r++)
        {
            if (groups.SizeOf(r) - 1 > extra) large.Add(r);
        }

        var precomputed = new Dictionary<long, (long[] Ids, float[] Sims)>();
        large.Sort((a, b) => groups.SizeOf(a).CompareTo(groups.SizeOf(b)));
        const int Batch = 256;
        for (int start = 0; start < large.Count; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Batch, large.Count - start);
            int searchK = (int)Math.Min(k + (long)groups.SizeOf(large[start + count - 1]), rows.Rows); // the group, itself included, plus k
            var data = new float[count * rows.Columns];
            for (int i = 0; i < count; i++) rows.ReadRow(large[start + i], data.AsSpan(i * rows.Columns, rows.Columns));
            using var batch = new InMemoryFeatureMatrix<float>(data, rows.Columns, FeatureElementType.Float32);
            var request = new NeighborQueries { Vectors = batch, K = searchK };
            var found = search.SearchAsync(request, cancellationToken).AsTask().GetAwaiter().GetResult();
            found.CheckFrom(search, request);
            for (int i = 0; i < count; i++)
            {
                long row = large[start + i];
                var ids = new long[k];
                var sims = new float[k];
                int kept = GroupExcludingSink.Keep(groups, row, found.IndicesOf(i), found.SimilaritiesOf(i), ids, sims);
                if (kept < k) throw FewOutside(groups, row, kept, k, rows.Rows);
                precomputed[row] = (ids, sims);
            }
        }

        var filter = new GroupExcludingSink(sink, groups, k, precomputed);
        search.SearchInto(rows, k + extra, excludeSelf: true, filter, progress, cancellationToken).GetAwaiter().GetResult();
    }

    private static InvalidOperationException FewOutside(NeighborGroups groups, long row, int kept, int k, long rows) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Row {row + 1} (index {row}) has only {kept} neighbors outside its '{groups.Column}' group ({groups.SizeOf(row)} of the {rows} rows); {k} are needed. Use a larger gallery, or no group column."));

    /// <summary>The most extra neighbors the main self-search asks for to make room for skipped group members.</summary>
    internal const int MaxGroupExtra = 256;

    /// <summary>Whether two datasets are the same files (same folder and meta file).</summary>
    public static bool SameDataset(GeoDataset a, GeoDataset b) =>
        ReferenceEquals(a, b) || string.Equals(Path.GetFullPath(a.MetaPath), Path.GetFullPath(b.MetaPath), StringComparison.Ordinal);

    private static bool IsUsable(string prefix, long rows, int k, NeighborFileProvenance provenance)
    {
        if (!File.Exists(prefix + "_I.npy") || !File.Exists(prefix + "_D.npy")) return false;
        try
        {
            // The content hashes and the datasets they were computed from must match: a cache entry
            // named after sampled fingerprints alone could outlive an edit of an unsampled row.
            using var f = NeighborFile.Open(prefix, provenance);
            return f.QueryCount == rows && f.K >= k;
        }
        catch (Exception e) when (e is NpyFormatException or InvalidDataException or IOException)
        {
            return false; // unreadable or stale: recompute over it
        }
    }
}

using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// One-call entry points over dataset folders (<see cref="GeoDataset"/>; the image features are
/// searched), for the <c>geotoken index</c> and <c>geotoken retrieve</c> commands.
/// </summary>
public static class NeighborSearch
{
    /// <summary>
    /// Builds the cluster index of the gallery dataset in <paramref name="galleryFolder"/> and writes it
    /// to <paramref name="indexPath"/> atomically (<c>geotoken index --gallery DIR --out FILE [--clusters N] [--levels L]</c>).
    /// </summary>
    public static IndexBuildReport BuildIndex(string galleryFolder, string indexPath, ClusterIndexOptions? options = null, IProgress<IndexBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var gallery = GeoDataset.Open(galleryFolder);
        return ClusterIndex.BuildFile(gallery.Image, indexPath, options, progress, cancellationToken);
    }

    /// <summary>
    /// Searches every image of <paramref name="queryFolder"/> in the gallery <paramref name="galleryFolder"/>
    /// — exactly, or through the cluster index <paramref name="indexPath"/> — and writes
    /// <c><paramref name="outputPrefix"/>_I.npy</c> and <c>_D.npy</c>
    /// (<c>geotoken retrieve --gallery DIR --query DIR --k K --out PREFIX [--index FILE] [--exclude-self]</c>).
    /// When both folders are the same dataset, pass the same path and set <see cref="SearchOptions.ExcludeSelf"/>
    /// for training neighbors.
    /// </summary>
    public static SearchStatistics Retrieve(string galleryFolder, string queryFolder, string outputPrefix, SearchOptions options, string? indexPath = null, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var gallery = GeoDataset.Open(galleryFolder);
        bool same = string.Equals(Path.GetFullPath(galleryFolder).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(queryFolder).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
        using var queryDataset = same ? null : GeoDataset.Open(queryFolder);
        var queries = queryDataset?.Image ?? gallery.Image;
        using var index = NeighborIndex.Open(gallery.Image, indexPath, cancellationToken);
        var provenance = new NeighborFileProvenance((queryDataset ?? gallery).ContentId, gallery.ContentId, options.ExcludeSelf ? "self, excluding each row" : null);
        using var sink = new NeighborFileWriter(outputPrefix, provenance);
        return index.Search(queries, options, sink, progress, cancellationToken);
    }
}

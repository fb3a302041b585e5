using System.Diagnostics;
using GeoToken.Data;
using GeoToken.IO;

namespace GeoToken.Retrieval;

// The index file: build-and-write, save, open (memory-mapped, checked against the gallery).
public sealed partial class ClusterIndex
{
    /// <summary>Builds the index for <paramref name="gallery"/> and writes it to <paramref name="path"/> (atomically) in one call.</summary>
    public static IndexBuildReport BuildFile(FeatureMatrix gallery, string path, ClusterIndexOptions? options = null, IProgress<IndexBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var index = Build(gallery, options, progress, cancellationToken);
        var built = clock.Elapsed;
        index.Save(path, progress, cancellationToken);
        return new IndexBuildReport
        {
            Path = System.IO.Path.GetFullPath(path),
            Rows = gallery.Rows,
            NodesPerLevel = index.NodesPerLevel,
            DefaultProbes = index.DefaultProbes,
            DefaultLeafMargin = index.DefaultLeafMargin,
            BuildTime = built,
            WriteTime = clock.Elapsed - built,
            FileBytes = new FileInfo(path).Length,
        };
    }

    /// <summary>
    /// Writes the index to <paramref name="path"/> atomically (temporary file + rename), with a copy
    /// of the gallery vectors in leaf order if <see cref="ClusterIndexOptions.StoreVectors"/> was set.
    /// </summary>
    public void Save(string path, IProgress<IndexBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stored = !_storeVectorsOnSave ? StoredVectors.None : Gallery.ElementType == FeatureElementType.Float16 ? StoredVectors.Float16 : StoredVectors.Float32;
        AtomicFile.Write(path, stream => ClusterIndexFormat.Write(stream, _tree, Gallery, _fingerprint, _defaultProbes, _defaultLeafMargin, stored, BuildInfo, progress, cancellationToken));
    }

    /// <summary>
    /// Memory-maps the index at <paramref name="path"/> for <paramref name="gallery"/>. The file's
    /// structure and metadata checksum are verified, and the gallery must match the fingerprint
    /// recorded at build time.
    /// </summary>
    /// <exception cref="IndexFormatException">The file is not a cluster index, has another version, or is damaged.</exception>
    /// <exception cref="GalleryMismatchException">The index was built for another gallery.</exception>
    public static ClusterIndex Open(string path, FeatureMatrix gallery)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(gallery);
        long length = new FileInfo(path).Length;
        if (length == 0) throw new IndexFormatException(path, "the file is empty.");
        var mapping = MappedFile.Open(path, length);
        try
        {
            var (header, layout) = ClusterIndexFormat.Read(path, mapping);
            var expected = header.Fingerprint;
            var actual = GalleryFingerprint.Compute(gallery, expected.SampleRows);
            if (actual != expected)
            {
                string why = actual.Rows != expected.Rows || actual.Columns != expected.Columns
                    ? $"it was built for a {expected.Rows} × {expected.Columns} gallery, this one is {actual.Rows} × {actual.Columns}"
                    : actual.ElementType != expected.ElementType
                        ? $"it was built for a {expected.ElementType} gallery, this one stores {actual.ElementType}"
                        : "the gallery has the same shape but different content (the hash of sampled rows differs)";
                throw new GalleryMismatchException($"The index {path} does not belong to this gallery: {why}. Expected {expected}; got {actual}. Rebuild the index for this gallery (geotoken index).", expected, actual);
            }

            var tree = ClusterTree.FromMapping(mapping, header.Dimension, header.Rows, header.NodeCounts, layout, header.Stored);
            string info = ClusterIndexFormat.ReadBuildInfo(mapping, layout);
            return new ClusterIndex(gallery, tree, expected, header.DefaultProbes, header.DefaultLeafMargin, header.Stored != StoredVectors.None, info, System.IO.Path.GetFullPath(path));
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }
}

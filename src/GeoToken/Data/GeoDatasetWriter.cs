using System.Text;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// Streams a dataset folder (see <see cref="GeoDataset"/>): <c>meta.csv</c> with
/// <c>IMG_ID,LAT,LON</c> and any extra columns, one <c>.npy</c> per modality (float16 or float32),
/// the coordinate sidecar <c>latlon.npy</c> (float64, (rows, 2)) and <c>dataset.json</c>.
/// Every file is written to a temporary file and renamed into place by <see cref="Commit"/>;
/// disposing without committing leaves the folder as it was.
/// </summary>
/// <remarks>
/// Commit order: features, sidecar and <c>meta.csv</c> are renamed into place (after
/// <c>dataset.json</c> is removed), modality files of an earlier dataset that this one lacks are
/// deleted, and <c>dataset.json</c> is written last. A crash in the middle of a commit can leave
/// files of two datasets side by side; <see cref="GeoDataset.Open(string)"/> then reports the row-count mismatch.
/// Memory is bounded (buffers only). Not thread-safe.
/// </remarks>
public sealed class GeoDatasetWriter : IDisposable
{
    private readonly GeoDatasetWriterOptions _options;
    private readonly NpyWriter?[] _features = new NpyWriter?[3];
    private readonly int[] _dims = new int[3];
    private readonly NpyWriter? _coordinates;
    private readonly string _metaTemporary;
    private readonly FileStream _metaStream;
    private readonly CsvWriter _meta;
    private readonly double[] _coordinateBuffer = new double[2 * 1024];
    private readonly ImageIdSet _ids = new();
    private bool _done;
    private bool _metaClosed;

    private GeoDatasetWriter(string folder, GeoDatasetWriterOptions options)
    {
        _options = options;
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
        var type = options.ElementType.ToNpy();
        try
        {
            foreach (var m in FeatureModalities.All)
            {
                if (options.DimensionOf(m) is not int d) continue;
                if (d <= 0) throw new ArgumentOutOfRangeException(nameof(options), d, $"The {m} dimension must be positive.");
                _dims[(int)m] = d;
                _features[(int)m] = NpyWriter.Create(Path.Combine(Folder, m.FileName()), type, d, options.ExpectedRows);
            }

            if (options.WriteCoordinateSidecar)
            {
                _coordinates = NpyWriter.Create(Path.Combine(Folder, GeoDataset.CoordinatesFileName), NpyDataType.Float64, 2, options.ExpectedRows);
            }

            _metaTemporary = AtomicFile.TemporaryPathFor(Path.Combine(Folder, MetaFileName));
            _metaStream = new FileStream(_metaTemporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _meta = new CsvWriter(new StreamWriter(_metaStream, new UTF8Encoding(false), 1 << 16, leaveOpen: true));
            _meta.WriteRow(["IMG_ID", "LAT", "LON", .. options.ExtraColumns]);
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    /// <summary>The metadata file name, <c>meta.csv</c>.</summary>
    public const string MetaFileName = "meta.csv";

    /// <summary>Starts writing a dataset into <paramref name="folder"/> (created if needed).</summary>
    /// <exception cref="ArgumentException">A dimension is not positive, or an extra column repeats IMG_ID, LAT or LON.</exception>
    public static GeoDatasetWriter Create(string folder, GeoDatasetWriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var c in options.ExtraColumns)
        {
            if (c is null || c.Equals("IMG_ID", StringComparison.OrdinalIgnoreCase) || c.Equals("LAT", StringComparison.OrdinalIgnoreCase) || c.Equals("LON", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"Extra column '{c}' is null or repeats IMG_ID, LAT or LON.", nameof(options));
            }
        }

        return new GeoDatasetWriter(folder, options);
    }

    /// <summary>
    /// Re-derives the files of a dataset folder from its <c>meta.csv</c> and feature files
    /// (<c>geotoken dataset rehash DIR</c>): validates every coordinate and the row counts, refuses repeated
    /// image ids, rewrites the coordinate sidecar <c>latlon.npy</c> from the CSV and writes <c>dataset.json</c>
    /// with the SHA-256 of every file. Use it after an intended edit of <c>meta.csv</c>, or to add hashes to a
    /// folder written by an older version; it accepts the files as they are, so do not use it to silence a
    /// check on a file you did not mean to change.
    /// </summary>
    /// <returns>The number of rows.</returns>
    /// <exception cref="GeoDatasetException">Bad coordinates, row counts that disagree, or a repeated image id.</exception>
    public static long Rehash(string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Dataset folder not found: {folder}");
        using var dataset = GeoDataset.Open(new GeoDatasetOptions { Folder = folder, IgnoreManifest = true, UseCoordinateSidecar = false });
        dataset.LoadLocations();
        if (dataset.HasImageIds) dataset.CheckImageIdsUnique();
        cancellationToken.ThrowIfCancellationRequested();
        File.Delete(Path.Combine(folder, DatasetManifest.FileName));
        using (var sidecar = NpyWriter.Create(Path.Combine(folder, GeoDataset.CoordinatesFileName), NpyDataType.Float64, 2, dataset.Rows))
        {
            var buffer = new double[2 * 4096];
            for (long start = 0; start < dataset.Rows; start += 4096)
            {
                int n = (int)Math.Min(4096, dataset.Rows - start);
                var locations = dataset.GetLocations(start, n);
                for (int k = 0; k < n; k++)
                {
                    buffer[2 * k] = locations[k].Latitude;
                    buffer[2 * k + 1] = locations[k].Longitude;
                }

                sidecar.WriteRows(buffer.AsSpan(0, 2 * n));
            }

            sidecar.Commit();
        }

        DatasetManifest.Create(folder, dataset.Rows, MetaFileName, GeoDataset.CoordinatesFileName, dataset.Modalities.Select(m => m.FileName()).ToArray(), cancellationToken).Write(folder);
        return dataset.Rows;
    }

    /// <summary>The dataset folder.</summary>
    public string Folder { get; }

    /// <summary>Rows written so far.</summary>
    public long RowsWritten { get; private set; }

    /// <summary>Appends one row.</summary>
    /// <param name="imageId">The image id (any text; quoted in the CSV when needed).</param>
    /// <param name="location">The image's position.</param>
    /// <param name="image">The image features (<see cref="GeoDatasetWriterOptions.ImageDimension"/> values).</param>
    /// <param name="locationFeatures">The image→location features, when that modality is written.</param>
    /// <param name="text">The image→text features, when that modality is written.</param>
    /// <param name="extra">One value per extra column.</param>
    public void WriteRow(string imageId, LatLng location, ReadOnlySpan<float> image, ReadOnlySpan<float> locationFeatures = default, ReadOnlySpan<float> text = default, ReadOnlySpan<string> extra = default) =>
        WriteRows([imageId], [location], image, locationFeatures, text, extra);

    /// <summary>Appends a block of rows given as float32 (features row-major, <paramref name="extra"/> row-major with one value per extra column).</summary>
    /// <exception cref="ArgumentException">A span's length does not match the number of rows (the message names it).</exception>
    public void WriteRows(ReadOnlySpan<string> imageIds, ReadOnlySpan<LatLng> locations, ReadOnlySpan<float> image, ReadOnlySpan<float> locationFeatures, ReadOnlySpan<float> text, ReadOnlySpan<string> extra)
    {
        CheckBlock(imageIds.Length, locations.Length, image.Length, locationFeatures.Length, text.Length, extra.Length);
        AddIds(imageIds);
        _features[0]!.WriteRows(image);
        _features[1]?.WriteRows(locationFeatures);
        _features[2]?.WriteRows(text);
        WriteMeta(imageIds, locations, extra);
    }

    /// <summary>Appends a block of rows given as float16.</summary>
    public void WriteRows(ReadOnlySpan<string> imageIds, ReadOnlySpan<LatLng> locations, ReadOnlySpan<Half> image, ReadOnlySpan<Half> locationFeatures, ReadOnlySpan<Half> text, ReadOnlySpan<string> extra)
    {
        CheckBlock(imageIds.Length, locations.Length, image.Length, locationFeatures.Length, text.Length, extra.Length);
        AddIds(imageIds);
        _features[0]!.WriteRows(image);
        _features[1]?.WriteRows(locationFeatures);
        _features[2]?.WriteRows(text);
        WriteMeta(imageIds, locations, extra);
    }

    /// <summary>
    /// Finishes every file, flushes them to disk and renames them into place (see the remarks for
    /// the order). Deletes <c>loc.npy</c>/<c>text.npy</c>/<c>latlon.npy</c> left by an earlier dataset in
    /// the folder when this one does not write them.
    /// </summary>
    /// <exception cref="InvalidOperationException">Rows written differ from <see cref="GeoDatasetWriterOptions.ExpectedRows"/>.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        try
        {
            foreach (var f in _features) f?.Complete();
            _coordinates?.Complete();
            CloseMeta(flushToDisk: true);

            string manifest = Path.Combine(Folder, DatasetManifest.FileName);
            File.Delete(manifest);
            foreach (var f in _features) f?.MoveIntoPlace();
            _coordinates?.MoveIntoPlace();
            File.Move(_metaTemporary, Path.Combine(Folder, MetaFileName), overwrite: true);
            foreach (var m in FeatureModalities.All)
            {
                if (_features[(int)m] is null) File.Delete(Path.Combine(Folder, m.FileName()));
            }

            if (_coordinates is null)
            {
                File.Delete(Path.Combine(Folder, GeoDataset.CoordinatesFileName));
            }

            DatasetManifest.Create(Folder, RowsWritten, MetaFileName, _coordinates is null ? null : GeoDataset.CoordinatesFileName,
                FeatureModalities.All.Where(m => _features[(int)m] is not null).Select(m => m.FileName()).ToArray()).Write(Folder);
        }
        finally
        {
            Abandon();
        }
    }

    /// <summary>Abandons an uncommitted dataset, deleting its temporary files.</summary>
    public void Dispose() => Abandon();

    private void Abandon()
    {
        if (_done) return;
        _done = true;
        foreach (var f in _features) f?.Dispose();
        _coordinates?.Dispose();
        try
        {
            CloseMeta(flushToDisk: false);
        }
        catch (IOException)
        {
        }

        if (_metaTemporary is not null) AtomicFile.TryDelete(_metaTemporary);
    }

    private void CloseMeta(bool flushToDisk)
    {
        if (_metaClosed || _metaStream is null) return;
        _metaClosed = true;
        try
        {
            _meta?.Dispose();
            if (flushToDisk) _metaStream.Flush(flushToDisk: true);
        }
        finally
        {
            _metaStream.Dispose();
        }
    }

    /// <summary>Records the block's ids, refusing one that repeats an earlier row's (nothing of the block is written then).</summary>
    private void AddIds(ReadOnlySpan<string> imageIds)
    {
        for (int k = 0; k < imageIds.Length; k++)
        {
            string id = imageIds[k] ?? throw new ArgumentException($"Image id of row {RowsWritten + k + 1} is null.", nameof(imageIds));
            long earlier = _ids.Add(id, RowsWritten + k);
            if (earlier >= 0)
            {
                for (int j = 0; j < k; j++) _ids.Remove(imageIds[j]);
                throw new ArgumentException(ImageIdSet.Repeated(Path.Combine(Folder, MetaFileName), id, earlier, RowsWritten + k), nameof(imageIds));
            }
        }
    }

    private void CheckBlock(int ids, int locations, int image, int loc, int text, int extra)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        void Check(string what, long actual, long expected)
        {
            if (actual != expected) throw new ArgumentException($"{what} holds {actual} values; {ids} rows need {expected}.");
        }

        Check("locations", locations, ids);
        Check("image features", image, (long)ids * _dims[0]);
        Check("location features", loc, (long)ids * _dims[1]);
        Check("text features", text, (long)ids * _dims[2]);
        Check("extra fields", extra, (long)ids * _options.ExtraColumns.Count);
    }

    private void WriteMeta(ReadOnlySpan<string> imageIds, ReadOnlySpan<LatLng> locations, ReadOnlySpan<string> extra)
    {
        int extraCount = _options.ExtraColumns.Count;
        for (int k = 0; k < imageIds.Length; k++)
        {
            var p = locations[k];
            _meta.Write(imageIds[k]);
            _meta.Write(p.Latitude);
            _meta.Write(p.Longitude);
            for (int e = 0; e < extraCount; e++) _meta.Write(extra[k * extraCount + e] ?? string.Empty);
            _meta.EndRow();
        }

        if (_coordinates is not null)
        {
            for (int start = 0; start < locations.Length; start += _coordinateBuffer.Length / 2)
            {
                int n = Math.Min(_coordinateBuffer.Length / 2, locations.Length - start);
                for (int k = 0; k < n; k++)
                {
                    _coordinateBuffer[2 * k] = locations[start + k].Latitude;
                    _coordinateBuffer[2 * k + 1] = locations[start + k].Longitude;
                }

                _coordinates.WriteRows(_coordinateBuffer.AsSpan(0, 2 * n));
            }
        }

        RowsWritten += imageIds.Length;
    }
}

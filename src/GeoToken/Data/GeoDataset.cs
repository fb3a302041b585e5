using System.Globalization;
using System.Runtime.InteropServices;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Tokens;

namespace GeoToken.Data;

/// <summary>
/// A geolocation dataset: one row per image with its position (and id and any other metadata in a
/// CSV) and one feature matrix per modality (<see cref="FeatureModality"/>), memory-mapped from
/// <c>.npy</c> files. Usually a folder written by <see cref="GeoDatasetWriter"/>:
/// <c>meta.csv</c> (<c>IMG_ID,LAT,LON,…</c>), <c>image.npy</c>, optionally <c>loc.npy</c> and
/// <c>text.npy</c>, plus the coordinate sidecar <c>latlon.npy</c> and <c>dataset.json</c>.
/// </summary>
/// <remarks>
/// <para>Opening maps the feature files (only headers are read) and reads the CSV's header line; a folder
/// with a <c>dataset.json</c> that records hashes is then checked against it (<c>meta.csv</c> and
/// <c>latlon.npy</c> by their full SHA-256, feature files cheaply unless <see cref="GeoDatasetOptions.Verify"/>;
/// see <see cref="DatasetIntegrity"/>) and an edited file is refused with an <see cref="InvalidDataException"/>
/// naming it. Coordinates are loaded on first use — from the memory-mapped sidecar when the hashes
/// matched, else by parsing the CSV — and validated then: every bad
/// row is reported (NaN, latitude outside [−90, 90], longitude outside [−180, 180], wrong field count)
/// and the CSV's row count must equal the features'. Image ids and other metadata are read on demand
/// through a row index built on first use (8 bytes per row).</para>
/// <para>Thread-safe for reading. Dispose to release the memory maps.</para>
/// </remarks>
public sealed class GeoDataset : IDisposable
{
    /// <summary>The coordinate sidecar file name, <c>latlon.npy</c>: float64 of shape (rows, 2), latitude then longitude in degrees.</summary>
    public const string CoordinatesFileName = "latlon.npy";

    private readonly NpyFeatureMatrix?[] _features = new NpyFeatureMatrix?[3];
    private readonly int _latColumn, _lonColumn, _idColumn;
    private readonly int _skipLines;
    private readonly string? _sidecarPath;
    private string? _contentId;
    private readonly Lazy<LocationTable> _locations;
    private readonly Lazy<CsvRowIndex> _rowIndex;
    private int _disposed;

    private GeoDataset(GeoDatasetOptions options)
    {
        try
        {
            // 1. Features: map each file (headers only) and check they agree in row count.
            string imagePath = options.Resolve(options.ImageFeatures ?? FeatureModality.Image.FileName());
            _features[0] = NpyFile.OpenFeatures(imagePath);
            OpenOptional(FeatureModality.Location, options.LocationFeatures, options);
            OpenOptional(FeatureModality.Text, options.TextFeatures, options);
            Rows = _features[0]!.Rows;
            foreach (var m in _features.Skip(1))
            {
                if (m is not null && m.Rows != Rows)
                {
                    throw new GeoDatasetException($"{m.Path} has {m.Rows} rows but {imagePath} has {Rows}; every modality needs one row per image, in the same order.");
                }
            }

            Modalities = FeatureModalities.All.Where(m => _features[(int)m] is not null).ToArray();

            // 2. Metadata: the CSV header only.
            MetaPath = options.Resolve(options.MetaFile);
            if (!File.Exists(MetaPath)) throw new FileNotFoundException($"Dataset metadata not found: {MetaPath} (features: {imagePath}).", MetaPath);
            _skipLines = options.MetaSkipLines;
            using (var reader = CsvReader.Open(MetaPath, _skipLines))
            {
                MetaColumns = reader.Header;
                _latColumn = reader.RequireColumn("latitude", [.. options.LatitudeColumns]);
                _lonColumn = reader.RequireColumn("longitude", [.. options.LongitudeColumns]);
                _idColumn = reader.IndexOf([.. options.IdColumns]);
            }

            // 3. The manifest of a folder we wrote: check the files against their recorded hashes; then the sidecar can be trusted.
            string folder = Path.GetDirectoryName(MetaPath)!;
            var manifest = options.IgnoreManifest ? null : DatasetManifest.TryRead(folder);
            if (manifest is not null && manifest.MetaFile == Path.GetFileName(MetaPath))
            {
                if (manifest.Rows != Rows)
                {
                    throw new GeoDatasetException(
                        $"{Path.Combine(folder, DatasetManifest.FileName)} records {manifest.Rows} rows but {imagePath} has {Rows}; the folder mixes files of different datasets (rewrite it, or run '{DatasetManifest.RehashCommand(folder)}').");
                }

                if (manifest.Files is null)
                {
                    // Version 1: nothing to check against, so the sidecar is not trusted; coordinates come from the CSV.
                    Integrity = DatasetIntegrity.NoHashes;
                }
                else
                {
                    foreach (var f in _features)
                    {
                        if (f is not null && Path.GetDirectoryName(f.Path) == folder && !manifest.Files.Any(r => r.Name == Path.GetFileName(f.Path)))
                        {
                            throw new InvalidDataException(
                                $"{f.Path} is not one of the files {Path.Combine(folder, DatasetManifest.FileName)} records ({string.Join(", ", manifest.Files.Select(r => r.Name))}): it was added after the dataset was written. Remove it, or run '{DatasetManifest.RehashCommand(folder)}' to make it part of the dataset.");
                        }
                    }

                    manifest.Check(folder, options.Verify);
                    Integrity = options.Verify ? DatasetIntegrity.Verified : DatasetIntegrity.Checked;
                    _contentId = manifest.ContentId;
                    if (options.UseCoordinateSidecar && manifest.CoordinatesFile is { } c) _sidecarPath = Path.Combine(folder, c);
                }
            }

            _locations = new Lazy<LocationTable>(ReadLocationTable, LazyThreadSafetyMode.ExecutionAndPublication);
            _rowIndex = new Lazy<CsvRowIndex>(BuildRowIndex, LazyThreadSafetyMode.ExecutionAndPublication);
            if (options.Verify && HasImageIds) CheckImageIdsUnique();
        }
        catch
        {
            foreach (var f in _features) f?.Dispose();
            throw;
        }

        void OpenOptional(FeatureModality modality, string? explicitPath, GeoDatasetOptions o)
        {
            string? path = explicitPath is not null
                ? o.Resolve(explicitPath)
                : o.DetectOptionalModalities && o.Folder is not null && File.Exists(o.Resolve(modality.FileName())) ? o.Resolve(modality.FileName()) : null;
            if (path is not null) _features[(int)modality] = NpyFile.OpenFeatures(path);
        }
    }

    /// <summary>Opens the dataset folder <paramref name="folder"/> (<c>meta.csv</c>, <c>image.npy</c>, optional <c>loc.npy</c>, <c>text.npy</c>).</summary>
    /// <exception cref="FileNotFoundException">A required file is missing.</exception>
    /// <exception cref="NpyFormatException">A feature file is invalid.</exception>
    /// <exception cref="CsvFormatException">The CSV lacks a latitude or longitude column.</exception>
    /// <exception cref="GeoDatasetException">Files disagree in row count.</exception>
    /// <exception cref="InvalidDataException">A file differs from what <c>dataset.json</c> records (edited after the dataset was written).</exception>
    public static GeoDataset Open(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Dataset folder not found: {Path.GetFullPath(folder)}");
        return new GeoDataset(new GeoDatasetOptions { Folder = folder });
    }

    /// <summary>Opens a dataset described by <paramref name="options"/> (files anywhere, custom column names).</summary>
    public static GeoDataset Open(GeoDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new GeoDataset(options);
    }

    /// <summary>Number of rows (images).</summary>
    public long Rows { get; }

    /// <summary>The image feature dimension.</summary>
    public int Dimension => Image.Columns;

    /// <summary>The modalities present, in canonical order (always starting with <see cref="FeatureModality.Image"/>).</summary>
    public IReadOnlyList<FeatureModality> Modalities { get; }

    /// <summary>The image features.</summary>
    public FeatureMatrix Image => _features[0]!;

    /// <summary>The metadata CSV.</summary>
    public string MetaPath { get; }

    /// <summary>The CSV's column names.</summary>
    public IReadOnlyList<string> MetaColumns { get; }

    /// <summary>True when the CSV has an image-id column.</summary>
    public bool HasImageIds => _idColumn >= 0;

    /// <summary>How much of the content was checked against <c>dataset.json</c> on open (see <see cref="DatasetIntegrity"/>).</summary>
    public DatasetIntegrity Integrity { get; }

    /// <summary>
    /// The dataset's content identity, for records of what something was computed from (checkpoints,
    /// neighbor files): <c>sha256:…</c> over the SHA-256 of every file <c>dataset.json</c> records (free once
    /// opened), or, without recorded hashes, <c>sampled:…</c> over the full SHA-256 of the CSV and the
    /// <see cref="Retrieval.GalleryFingerprint"/> (1,024 sampled rows) of every feature file (computed on first use;
    /// an edit of an unsampled feature row goes unnoticed then).
    /// </summary>
    public string ContentId => _contentId ??= ComputeContentId();

    /// <summary>True when coordinates come from the memory-mapped sidecar rather than the CSV.</summary>
    public bool UsesCoordinateSidecar => _sidecarPath is not null;

    /// <summary>True when <paramref name="modality"/> is present.</summary>
    public bool Has(FeatureModality modality) => (uint)modality < 3 && _features[(int)modality] is not null;

    /// <summary>The features of <paramref name="modality"/>.</summary>
    /// <exception cref="InvalidOperationException">The modality is absent (the message lists those present).</exception>
    public FeatureMatrix GetFeatures(FeatureModality modality) =>
        Has(modality)
            ? _features[(int)modality]!
            : throw new InvalidOperationException($"The dataset of {MetaPath} has no {modality} features ({modality.FileName()}); it has {string.Join(", ", Modalities)}.");

    /// <summary>The file <paramref name="modality"/>'s features are mapped from.</summary>
    public string GetFeaturePath(FeatureModality modality) => ((NpyFeatureMatrix)GetFeatures(modality)).Path;

    /// <summary>
    /// Throws unless <paramref name="other"/> (e.g. a gallery for this query set) has the same
    /// modalities with the same dimensions.
    /// </summary>
    /// <exception cref="GeoDatasetException">The datasets differ; the message names both and what differs.</exception>
    public void CheckCompatibleWith(GeoDataset other)
    {
        ArgumentNullException.ThrowIfNull(other);
        string Describe(GeoDataset d) => string.Join(", ", d.Modalities.Select(m => $"{m} ({d.GetFeatures(m).Columns}-d)"));
        bool same = Modalities.SequenceEqual(other.Modalities)
            && Modalities.All(m => GetFeatures(m).Columns == other.GetFeatures(m).Columns);
        if (!same)
        {
            throw new GeoDatasetException(
                $"Datasets are not compatible: {MetaPath} has {Describe(this)}; {other.MetaPath} has {Describe(other)}. Both need the same modalities and dimensions.");
        }
    }

    /// <summary>The position of <paramref name="row"/>.</summary>
    /// <exception cref="GeoDatasetException">On first use: the coordinates hold bad rows or the CSV's row count differs from the features'.</exception>
    public LatLng GetLocation(long row)
    {
        if ((ulong)row >= (ulong)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"The dataset has {Rows} rows.");
        return _locations.Value.Get(row, 1)[0];
    }

    /// <summary>The positions of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).</summary>
    public ReadOnlySpan<LatLng> GetLocations(long start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows) throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the dataset's {Rows} rows.");
        return _locations.Value.Get(start, count);
    }

    /// <summary>Loads and validates the coordinates now (otherwise done on first use), surfacing any <see cref="GeoDatasetException"/>.</summary>
    public void LoadLocations() => _ = _locations.Value;

    /// <summary>The leaf S2 cell of <paramref name="row"/>'s position.</summary>
    public S2CellId GetCell(long row) => S2CellId.FromLatLng(GetLocation(row));

    /// <summary>Writes the GeoToken sequence of <paramref name="row"/>'s position (<see cref="GeoTokenizer.Length"/> tokens).</summary>
    public void GetTokens(long row, GeoTokenizer tokenizer, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        tokenizer.Encode(S2CellId.FromLatLng(GetLocation(row)), destination);
    }

    /// <summary>Writes the GeoToken sequences of <paramref name="count"/> rows from <paramref name="start"/>, row after row (count × <see cref="GeoTokenizer.Length"/> tokens).</summary>
    public void GetTokens(long start, int count, GeoTokenizer tokenizer, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int len = tokenizer.Length;
        if (destination.Length < (long)count * len) throw new ArgumentException($"The destination holds {destination.Length} tokens; {count} rows × {len} need {(long)count * len}.", nameof(destination));
        var locs = GetLocations(start, count);
        for (int k = 0; k < count; k++) tokenizer.Encode(S2CellId.FromLatLng(locs[k]), destination.Slice(k * len, len));
    }

    /// <summary>The image id of <paramref name="row"/> (read from the CSV through a row index built on first use).</summary>
    /// <exception cref="InvalidOperationException">The CSV has no id column.</exception>
    public string GetImageId(long row)
    {
        if (!HasImageIds) throw new InvalidOperationException($"{MetaPath} has no image-id column; its columns are {string.Join(", ", MetaColumns)}.");
        return GetMetaRow(row)[_idColumn];
    }

    /// <summary>All fields of <paramref name="row"/>'s CSV record, in <see cref="MetaColumns"/> order.</summary>
    public string[] GetMetaRow(long row)
    {
        if ((ulong)row >= (ulong)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"The dataset has {Rows} rows.");
        return _rowIndex.Value.GetFields(row);
    }

    /// <summary>Streams every image id in row order (one sequential pass over the CSV; faster than <see cref="GetImageId"/> for all rows).</summary>
    public IEnumerable<string> ReadImageIds()
    {
        if (!HasImageIds) throw new InvalidOperationException($"{MetaPath} has no image-id column; its columns are {string.Join(", ", MetaColumns)}.");
        return ReadColumn(_idColumn);
    }

    /// <summary>Streams the values of the metadata column <paramref name="column"/> in row order (one sequential pass over the CSV).</summary>
    /// <param name="column">The column's name as the CSV header spells it (case-insensitive), e.g. <c>AUTHOR</c>.</param>
    /// <exception cref="GeoDatasetException">The CSV has no such column (the message lists its columns).</exception>
    public IEnumerable<string> ReadColumn(string column)
    {
        ArgumentException.ThrowIfNullOrEmpty(column);
        int index = ColumnIndex(column);
        if (index < 0) throw new GeoDatasetException($"{MetaPath} has no column '{column}'; its columns are {string.Join(", ", MetaColumns)}.");
        return ReadColumn(index);
    }

    /// <summary>Whether the metadata has the column <paramref name="column"/> (case-insensitive, as <see cref="ReadColumn(string)"/> reads it).</summary>
    public bool HasColumn(string column) => ColumnIndex(column) >= 0;

    private int ColumnIndex(string column)
    {
        for (int i = 0; i < MetaColumns.Count; i++)
        {
            if (string.Equals(MetaColumns[i], column, StringComparison.OrdinalIgnoreCase)) return i;
        }

        return -1;
    }

    private IEnumerable<string> ReadColumn(int index)
    {
        using var r = CsvReader.Open(MetaPath, _skipLines);
        long n = 0;
        while (r.Read())
        {
            if (++n > Rows) break;
            yield return r.GetString(index);
        }

        if (n != Rows) throw RowCountMismatch(n);
    }

    private GeoDatasetException RowCountMismatch(long csvRows) =>
        new($"{MetaPath} has {(csvRows > Rows ? "more than " + Rows.ToString(CultureInfo.InvariantCulture) : csvRows.ToString(CultureInfo.InvariantCulture))} data rows but {((NpyFeatureMatrix)Image).Path} has {Rows}; the metadata needs one row per feature row, in the same order.");

    private string ComputeContentId()
    {
        // Without recorded hashes: the CSV in full (it holds the labels) and a sample of 1,024 rows of each feature file.
        var text = new System.Text.StringBuilder().Append(CultureInfo.InvariantCulture, $"rows {Rows}\n{Path.GetFileName(MetaPath)} {FileHash.Sha256(MetaPath)}\n");
        foreach (var m in Modalities) text.Append(CultureInfo.InvariantCulture, $"{m.FileName()} {Retrieval.GalleryFingerprint.Compute(GetFeatures(m)).Sha256}\n");
        return "sampled:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Reads every image id and throws on the first one that repeats (both rows named, counted from 1).</summary>
    internal void CheckImageIdsUnique()
    {
        var seen = new ImageIdSet();
        long row = 0;
        foreach (var id in ReadImageIds())
        {
            long earlier = seen.Add(id, row);
            if (earlier >= 0) throw new GeoDatasetException(ImageIdSet.Repeated(MetaPath, id, earlier, row));
            row++;
        }
    }

    private CsvRowIndex BuildRowIndex()
    {
        var index = CsvRowIndex.Build(MetaPath, _skipLines);
        if (index.Count != Rows)
        {
            long n = index.Count;
            index.Dispose();
            throw RowCountMismatch(n);
        }

        return index;
    }

    private LocationTable ReadLocationTable() => _sidecarPath is not null ? LoadSidecar(_sidecarPath) : LoadCsv();

    private LocationTable LoadSidecar(string path)
    {
        var a = NpyFile.OpenMatrix<double>(path, expectedColumns: 2);
        try
        {
            if (a.Rows != Rows) throw new GeoDatasetException($"{path} has {a.Rows} rows but the dataset has {Rows}; delete it to read coordinates from {MetaPath}.");
            var problems = new List<string>();
            long bad = 0;
            const int block = 1 << 16;
            for (long start = 0; start < Rows; start += block)
            {
                int n = (int)Math.Min(block, Rows - start);
                var span = a.GetRows(start, n);
                for (int k = 0; k < n; k++)
                {
                    if (LatLng.TryCreate(span[2 * k], span[2 * k + 1], out _) is { } error)
                    {
                        if (bad++ < 1000) problems.Add($"row {start + k + 1} (index {start + k}): {error}");
                    }
                }
            }

            if (bad > 0) throw new GeoDatasetException(path, problems, bad);
            return new LocationTable(a);
        }
        catch
        {
            a.Dispose();
            throw;
        }
    }

    private LocationTable LoadCsv()
    {
        if (Rows > Array.MaxLength) throw new GeoDatasetException($"{MetaPath}: {Rows} rows are too many to hold in memory; write the dataset with GeoDatasetWriter to get a coordinate sidecar.");
        var locations = new LatLng[Rows];
        var problems = new List<string>();
        long bad = 0;
        long n = 0;
        void Problem(string p)
        {
            if (bad++ < 1000) problems.Add(p);
        }

        using (var r = CsvReader.Open(MetaPath, _skipLines))
        {
            string latName = r.Header[_latColumn], lonName = r.Header[_lonColumn];
            while (true)
            {
                try
                {
                    if (!r.Read()) break;
                }
                catch (CsvFormatException e)
                {
                    n++;
                    Problem(e.Message[(r.SourceName.Length + 2)..]);
                    continue;
                }

                double lat = ParseCoordinate(r, _latColumn, latName, 90, "latitude", Problem);
                double lon = ParseCoordinate(r, _lonColumn, lonName, 180, "longitude", Problem);
                if (n < Rows && !double.IsNaN(lat) && !double.IsNaN(lon)) locations[n] = new LatLng(lat, lon);
                n++;
            }
        }

        if (n != Rows)
        {
            problems.Insert(0, $"{n} data rows, but {((NpyFeatureMatrix)Image).Path} has {Rows} rows");
            bad++;
        }

        if (bad > 0) throw new GeoDatasetException(MetaPath, problems, bad);
        return new LocationTable(locations);
    }

    private static double ParseCoordinate(CsvReader r, int column, string name, double limit, string what, Action<string> problem)
    {
        var s = r.Span(column).Trim();
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
        {
            problem($"row {r.Row}, column '{name}': '{s}' is not a finite number");
            return double.NaN;
        }

        if (v < -limit || v > limit)
        {
            problem(string.Create(CultureInfo.InvariantCulture, $"row {r.Row}, column '{name}': {what} {v} is outside [-{limit}, {limit}]"));
            return double.NaN;
        }

        return v;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var f in _features) f?.Dispose();
        if (_locations.IsValueCreated) _locations.Value.Dispose();
        if (_rowIndex.IsValueCreated) _rowIndex.Value.Dispose();
    }

    /// <summary>Coordinates in memory or memory-mapped from the sidecar.</summary>
    private sealed class LocationTable : IDisposable
    {
        // LatLng is two doubles (latitude, longitude), so the sidecar's rows can be viewed as LatLng.
        private static readonly bool LayoutIsTwoDoubles = CheckLayout();
        private readonly LatLng[]? _array;
        private readonly NpyArray<double>? _mapped;

        public LocationTable(LatLng[] array) => _array = array;

        public LocationTable(NpyArray<double> mapped)
        {
            if (LayoutIsTwoDoubles)
            {
                _mapped = mapped;
            }
            else
            {
                _array = new LatLng[mapped.Rows];
                for (long k = 0; k < mapped.Rows; k++) _array[k] = new LatLng(mapped[k, 0], mapped[k, 1]);
                mapped.Dispose();
            }
        }

        public ReadOnlySpan<LatLng> Get(long start, int count) =>
            _array is not null ? _array.AsSpan(checked((int)start), count) : MemoryMarshal.Cast<double, LatLng>(_mapped!.GetRows(start, count));

        public void Dispose() => _mapped?.Dispose();

        private static bool CheckLayout()
        {
            Span<LatLng> one = [new LatLng(12.5, -45.25)];
            var d = MemoryMarshal.Cast<LatLng, double>(one);
            return System.Runtime.CompilerServices.Unsafe.SizeOf<LatLng>() == 16 && d.Length == 2 && d[0] == 12.5 && d[1] == -45.25;
        }
    }
}

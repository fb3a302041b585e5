using System.Globalization;
using System.Security.Cryptography;
using GeoToken.Data;
using GeoToken.Embeddings;
using GeoToken.Geometry;
using GeoToken.Imaging;
using GeoToken.Onnx;

namespace GeoToken.Photos;

/// <summary>
/// Builds a retrieval gallery from a folder of geotagged photos: scans the folder, encodes every
/// usable photo with an <see cref="IImageEncoder"/>, and writes a dataset folder
/// (<see cref="GeoDatasetWriter"/>: <c>meta.csv</c> with <c>IMG_ID,LAT,LON,capture_time,sha256</c>,
/// <c>image.npy</c>, <c>latlon.npy</c>, <c>dataset.json</c>) plus <c>gallery-manifest.json</c> and
/// <c>scan-report.csv</c>, the report of every photo (those without GPS and those that failed listed with the reason).
/// </summary>
/// <remarks>
/// <para>Re-running is incremental: a photo whose size and modification time match the manifest is
/// kept without reading it again; otherwise its SHA-256 decides (same content → kept, different →
/// encoded again); a new photo whose content matches one already in the gallery (a moved or copied
/// file) reuses that embedding. Photos that disappeared or lost their GPS are removed. Photos that
/// failed to decode are remembered and not retried until they change. When nothing changed, the
/// dataset files are not rewritten.</para>
/// <para>The dataset is rewritten in full (rows sorted by relative path) when anything changed;
/// the previous embeddings are held in memory meanwhile (rows × dimension × 4 bytes). The manifest
/// is written after the dataset; if the two disagree (a crash in between, or the dataset was
/// edited), the next run notices and encodes everything again. A new folder gets a manifest that
/// lists no photos before any other file is written, so a first build killed half-way leaves a
/// folder the next run recognises as its own and builds again (tested by SIGKILLing the CLI).</para>
/// <para>Not thread-safe for the same dataset folder.</para>
/// </remarks>
public sealed class PhotoGalleryBuilder
{
    /// <summary>The report file written into the dataset folder.</summary>
    public const string ReportFileName = "scan-report.csv";

    private readonly IImageEncoder _encoder;
    private readonly PhotoGalleryOptions _options;
    private readonly string _encoderId;

    /// <summary>Creates a builder that encodes with <paramref name="encoder"/> (not disposed by the builder).</summary>
    public PhotoGalleryBuilder(IImageEncoder encoder, PhotoGalleryOptions? options = null)
    {
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _options = options ?? new PhotoGalleryOptions();
        if (_options.EncodeChunkSize <= 0) throw new ArgumentException($"EncodeChunkSize must be positive; got {_options.EncodeChunkSize}.", nameof(options));
        _encoderId = _options.EncoderId ?? encoder switch
        {
            OnnxImageEncoder o => $"{Path.GetFileName(o.ModelPath)}:{o.OutputName}:{o.Options.Preprocessing.CropWidth}x{o.Options.Preprocessing.CropHeight}",
            _ => encoder.GetType().FullName ?? encoder.GetType().Name,
        };
    }

    /// <summary>Scans <paramref name="photoFolder"/> and creates or updates the gallery in <paramref name="datasetFolder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The photo folder does not exist.</exception>
    /// <exception cref="InvalidOperationException">The dataset folder holds a gallery of another encoder, or files this builder did not write (unless <see cref="PhotoGalleryOptions.Overwrite"/>), or no photo is usable (the report is written first).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the previous gallery is left as it was).</exception>
    public async Task<PhotoGalleryResult> BuildAsync(string photoFolder, string datasetFolder, IProgress<GalleryBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(photoFolder);
        ArgumentException.ThrowIfNullOrEmpty(datasetFolder);
        var ct = cancellationToken;
        string dataset = Path.GetFullPath(datasetFolder);
        int d = _encoder.Dimension;

        // 1. Scan.
        var scanProgress = progress is null ? null : new ForwardProgress<PhotoScanProgress>(p => progress.Report(new(GalleryBuildStage.Scanning, p.Scanned, p.Total)));
        RequireOwnFolder(dataset);
        var scan = await new PhotoFolderScanner(_options.Scan).ScanAsync(photoFolder, scanProgress, ct).ConfigureAwait(false);
        Directory.CreateDirectory(dataset);

        // 2. The previous gallery, if it is usable.
        (GalleryManifest? manifest, string? rebuild) = GalleryManifest.TryLoad(dataset);
        if (!File.Exists(Path.Combine(dataset, GalleryManifest.FileName)))
        {
            // Claim the folder before writing anything else: a build killed half-way then leaves a
            // folder the next run recognises as its own (a manifest listing no photos) and rebuilds.
            new GalleryManifest { EncoderId = _encoderId, Dimension = d, PhotoFolder = scan.Folder, Files = [] }.Save(dataset);
        }

        if (manifest is { Files.Count: 0 }) manifest = null; // a build that never finished: nothing to reuse
        if (manifest is not null && (manifest.EncoderId != _encoderId || manifest.Dimension != d))
        {
            throw new InvalidOperationException($"{dataset}: holds a gallery of encoder '{manifest.EncoderId}' ({manifest.Dimension}-d); this encoder is '{_encoderId}' ({d}-d). Use another dataset folder, or delete {GalleryManifest.FileName} there to rebuild.");
        }

        Dictionary<string, float[]> previousRows = [];
        if (manifest is not null)
        {
            (previousRows, rebuild) = LoadPreviousRows(dataset, manifest, d);
            if (rebuild is not null) manifest = null;
        }

        var previous = manifest?.Files.ToDictionary(e => e.Path, StringComparer.Ordinal) ?? [];
        var byHash = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var e in previous.Values)
        {
            if (e.Included && previousRows.TryGetValue(e.Path, out var row)) byHash.TryAdd(e.Sha256, row);
        }

        // 3. What each usable photo needs.
        var usable = scan.Photos.Where(p => p.IsUsable).ToList();
        var entries = new Dictionary<string, GalleryManifest.Entry>(StringComparer.Ordinal);
        var embeddings = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var failed = new Dictionary<string, string>(StringComparer.Ordinal);
        var unreadable = new Dictionary<string, string>(StringComparer.Ordinal);
        var toEncode = new List<ScannedPhoto>();
        List<string> added = [], updated = [];
        int unchanged = 0, reused = 0, hashed = 0;
        var toHash = usable.Where(p => !(previous.TryGetValue(p.RelativePath, out var e) && e.Size == p.Length && e.ModifiedUtcTicks == p.LastWriteTimeUtc.Ticks)).ToList();
        foreach (var p in usable)
        {
            ct.ThrowIfCancellationRequested();
            previous.TryGetValue(p.RelativePath, out var old);
            string sha;
            if (old is not null && old.Size == p.Length && old.ModifiedUtcTicks == p.LastWriteTimeUtc.Ticks)
            {
                sha = old.Sha256;
            }
            else
            {
                try
                {
                    sha = await Sha256Async(p.Path, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    unreadable[p.RelativePath] = $"cannot read the file: {e.Message}"; // not remembered: retried next run
                    continue;
                }

                progress?.Report(new(GalleryBuildStage.Hashing, ++hashed, toHash.Count));
            }

            var entry = new GalleryManifest.Entry { Path = p.RelativePath, Size = p.Length, ModifiedUtcTicks = p.LastWriteTimeUtc.Ticks, Sha256 = sha, Included = true };
            entries[p.RelativePath] = entry;
            if (old is not null && old.Sha256 == sha)
            {
                if (old.Included && previousRows.TryGetValue(p.RelativePath, out var kept))
                {
                    embeddings[p.RelativePath] = kept;
                    unchanged++;
                    continue;
                }

                if (!old.Included)
                {
                    failed[p.RelativePath] = old.Problem ?? "failed to decode in an earlier run";
                    continue;
                }
            }

            (old is null ? added : updated).Add(p.RelativePath);
            if (byHash.TryGetValue(sha, out var twin))
            {
                embeddings[p.RelativePath] = twin;
                reused++;
            }
            else
            {
                toEncode.Add(p);
            }
        }

        // 4. Encode, isolating photos that fail to decode.
        int encoded = 0;
        for (int start = 0; start < toEncode.Count; start += _options.EncodeChunkSize)
        {
            var chunk = toEncode.Skip(start).Take(_options.EncodeChunkSize).ToList();
            while (chunk.Count > 0)
            {
                ImageEmbeddings result;
                try
                {
                    result = await _encoder.EncodeAsync([.. chunk.Select(p => p.Path)], null, ct).ConfigureAwait(false);
                }
                catch (ImageDecodeException e) when (chunk.FindIndex(p => p.Path == e.SourceName) is int bad and >= 0)
                {
                    failed[chunk[bad].RelativePath] = e.Message.StartsWith(chunk[bad].Path + ": ", StringComparison.Ordinal) ? e.Message[(chunk[bad].Path.Length + 2)..] : e.Message;
                    chunk.RemoveAt(bad);
                    continue;
                }

                for (int i = 0; i < chunk.Count; i++) embeddings[chunk[i].RelativePath] = result.GetRow(i);
                encoded += chunk.Count;
                progress?.Report(new(GalleryBuildStage.Encoding, encoded, toEncode.Count));
                break;
            }
        }

        foreach (var (path, problem) in failed)
        {
            entries[path] = entries[path] with { Included = false, Problem = problem };
            added.Remove(path);
            updated.Remove(path);
        }

        // 5. The gallery rows, in scan order.
        var rows = usable.Where(p => embeddings.ContainsKey(p.RelativePath)).ToList();
        var previousIncluded = manifest?.Files.Where(e => e.Included).Select(e => e.Path).ToList() ?? [];
        var removed = previousIncluded.Where(path => !embeddings.ContainsKey(path)).ToList();
        var finalPhotos = scan.Photos.Select(p =>
            failed.TryGetValue(p.RelativePath, out string? why) ? p with { Status = PhotoStatus.Undecodable, Problem = why } :
            unreadable.TryGetValue(p.RelativePath, out why) ? p with { Status = PhotoStatus.Unreadable, Problem = why } : p).ToList();
        var finalScan = new PhotoScanResult(scan.Folder, finalPhotos, scan.Skipped, scan.OtherFiles);
        string reportPath = Path.Combine(dataset, ReportFileName);
        progress?.Report(new(GalleryBuildStage.Writing, 0, 1));
        finalScan.WriteReport(reportPath);
        if (rows.Count == 0)
        {
            throw new InvalidOperationException($"{scan.Folder}: no usable photo ({finalScan.Summary()}); every photo and the reason it was left out is in {reportPath}.");
        }

        bool same = manifest is not null && added.Count == 0 && updated.Count == 0 && removed.Count == 0 &&
            rows.Select(p => p.RelativePath).SequenceEqual(previousIncluded, StringComparer.Ordinal);
        ct.ThrowIfCancellationRequested();
        if (!same) WriteDataset(dataset, rows, embeddings, entries, d);

        new GalleryManifest
        {
            EncoderId = _encoderId,
            Dimension = d,
            PhotoFolder = scan.Folder,
            Files = [.. rows.Select(p => entries[p.RelativePath]), .. failed.Keys.Order(StringComparer.Ordinal).Select(k => entries[k])],
        }.Save(dataset);
        progress?.Report(new(GalleryBuildStage.Writing, 1, 1));

        return new PhotoGalleryResult
        {
            DatasetFolder = dataset,
            Rows = rows.Count,
            Added = added,
            Updated = updated,
            Removed = removed,
            Unchanged = unchanged,
            ReusedByHash = reused,
            Encoded = encoded,
            DatasetWritten = !same,
            RebuildReason = rebuild,
            Scan = finalScan,
            ReportPath = reportPath,
        };
    }

    /// <summary>Refuses a non-empty folder without a gallery manifest unless <see cref="PhotoGalleryOptions.Overwrite"/>.</summary>
    private void RequireOwnFolder(string dataset)
    {
        if (_options.Overwrite || !Directory.Exists(dataset) || File.Exists(Path.Combine(dataset, GalleryManifest.FileName))) return;
        var present = Directory.EnumerateFileSystemEntries(dataset).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(4).ToList();
        if (present.Count == 0) return;
        throw new InvalidOperationException(
            $"{dataset}: is not empty ({string.Join(", ", present.Take(3))}{(present.Count > 3 ? ", …" : "")}) and holds no gallery written by this command " +
            $"({GalleryManifest.FileName} is missing); refusing to replace its files. Choose an empty or new folder, or overwrite on purpose (--force).");
    }

    private void WriteDataset(string dataset, List<ScannedPhoto> rows, Dictionary<string, float[]> embeddings, Dictionary<string, GalleryManifest.Entry> entries, int d)
    {
        using var writer = GeoDatasetWriter.Create(dataset, new GeoDatasetWriterOptions
        {
            ImageDimension = d,
            ElementType = _options.ElementType,
            ExtraColumns = ["capture_time", "sha256"],
            ExpectedRows = rows.Count,
        });
        const int block = 256;
        var features = new float[block * d];
        for (int start = 0; start < rows.Count; start += block)
        {
            int n = Math.Min(block, rows.Count - start);
            var ids = new string[n];
            var locations = new LatLng[n];
            var extra = new string[2 * n];
            for (int k = 0; k < n; k++)
            {
                var p = rows[start + k];
                ids[k] = p.RelativePath;
                locations[k] = p.Location!.Value;
                embeddings[p.RelativePath].CopyTo(features, k * d);
                extra[2 * k] = p.CaptureTime?.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) ?? string.Empty;
                extra[(2 * k) + 1] = entries[p.RelativePath].Sha256;
            }

            writer.WriteRows(ids, locations, features.AsSpan(0, n * d), default, default, extra);
        }

        writer.Commit();
    }

    /// <summary>The previous gallery's embeddings by photo path, or why they cannot be trusted.</summary>
    private static (Dictionary<string, float[]> Rows, string? Problem) LoadPreviousRows(string folder, GalleryManifest manifest, int d)
    {
        var included = manifest.Files.Where(e => e.Included).Select(e => e.Path).ToList();
        try
        {
            using var previous = GeoDataset.Open(folder);
            if (previous.Dimension != d) return ([], $"the dataset's image.npy has {previous.Dimension} columns, not {d}");
            var ids = previous.ReadImageIds().ToList();
            if (!ids.SequenceEqual(included, StringComparer.Ordinal))
            {
                return ([], $"the dataset's {ids.Count} image ids do not match the manifest's {included.Count} photos (interrupted run or edited dataset)");
            }

            var rows = new Dictionary<string, float[]>(StringComparer.Ordinal);
            for (int r = 0; r < ids.Count; r++)
            {
                var v = new float[d];
                previous.Image.ReadRow(r, v);
                rows[ids[r]] = v;
            }

            return (rows, null);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            return ([], $"the previous dataset cannot be read: {e.Message}");
        }
    }

    private static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(fs, ct).ConfigureAwait(false));
    }

    private sealed class ForwardProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

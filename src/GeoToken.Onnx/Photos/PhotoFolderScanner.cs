using GeoToken.Imaging;

namespace GeoToken.Photos;

/// <summary>
/// Lists the photos in a folder tree and reads their GPS positions: which can go into a gallery,
/// and for every other one, why not. Nothing is dropped silently: every candidate file appears in
/// <see cref="PhotoScanResult.Photos"/> with a <see cref="PhotoStatus"/> and a reason.
/// </summary>
/// <remarks>
/// A candidate is a file with an image extension (<see cref="PhotoScanOptions.Extensions"/>), or any
/// file whose first bytes are an image when <see cref="PhotoScanOptions.SniffAllFiles"/> is set. Its
/// first bytes decide the format (a PNG named <c>.jpg</c> is a PNG). The images are not decoded:
/// a file corrupt beyond its header is found when it is encoded. Thread-safe.
/// </remarks>
public sealed class PhotoFolderScanner
{
    private readonly PhotoScanOptions _options;
    private readonly HashSet<string> _extensions;

    /// <summary>Creates a scanner.</summary>
    public PhotoFolderScanner(PhotoScanOptions? options = null)
    {
        _options = options ?? new PhotoScanOptions();
        if (_options.Parallelism <= 0) throw new ArgumentException($"Parallelism must be positive; got {_options.Parallelism}.", nameof(options));
        _extensions = new HashSet<string>(_options.Extensions.Select(e => e.StartsWith('.') ? e : "." + e), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Scans <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<PhotoScanResult> ScanAsync(string folder, IProgress<PhotoScanProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{folder}: the photo folder does not exist.");

        var (candidates, skipped, other) = await Task.Run(() => List(root, cancellationToken), cancellationToken).ConfigureAwait(false);
        var photos = new ScannedPhoto[candidates.Count];
        int done = 0;
        await Parallel.ForAsync(0, candidates.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken }, (i, _) =>
        {
            photos[i] = Examine(root, candidates[i].Path, candidates[i].Format);
            int n = Interlocked.Increment(ref done);
            if (progress is not null && (n % 64 == 0 || n == candidates.Count)) progress.Report(new PhotoScanProgress(n, candidates.Count));
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);

        return new PhotoScanResult(root, photos, skipped, other);
    }

    /// <summary>Examines one file (already known to be a candidate).</summary>
    internal static ScannedPhoto Examine(string root, string path, ImageFileFormat? sniffed = null)
    {
        string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        FileInfo info;
        ImageFileFormat? format;
        try
        {
            info = new FileInfo(path);
            format = sniffed ?? (info.Length > 0 ? ImageFormatSniffer.Sniff(path) : null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ScannedPhoto { Path = path, RelativePath = relative, Status = PhotoStatus.Unreadable, Problem = $"cannot read the file: {e.Message}" };
        }

        var photo = new ScannedPhoto { Path = path, RelativePath = relative, Status = PhotoStatus.Unreadable, Format = format, Length = info.Length, LastWriteTimeUtc = info.LastWriteTimeUtc };
        if (info.Length == 0) return photo with { Status = PhotoStatus.NotAnImage, Problem = "the file is empty" };
        if (format is null) return photo with { Status = PhotoStatus.NotAnImage, Problem = $"the content is not an image (its first bytes match no image format){HexHeader(path)}" };

        PhotoMetadata? metadata = null;
        string? metadataProblem = null;
        try
        {
            metadata = PhotoMetadata.Read(path);
        }
        catch (PhotoMetadataException e)
        {
            metadataProblem = e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;
        }

        photo = photo with { Location = metadata?.Location, CaptureTime = metadata?.CaptureTime };
        if (!ImageFormatSniffer.IsDecodable(format.Value))
        {
            return photo with { Status = PhotoStatus.UnsupportedFormat, Problem = $"{format} images cannot be decoded here (SkiaSharp); convert them to JPEG" };
        }

        if (metadata is null) return photo with { Problem = metadataProblem };
        if (metadata.GpsProblem is { } problem) return photo with { Status = PhotoStatus.BadGps, Problem = problem };
        if (metadata.Location is null) return photo with { Status = PhotoStatus.NoGps, Problem = "no GPS position in its metadata" };
        return photo with { Status = PhotoStatus.Usable };
    }

    private (List<(string Path, ImageFileFormat? Format)> Candidates, List<(string Path, string Reason)> Skipped, int Other) List(string root, CancellationToken ct)
    {
        var candidates = new List<(string, ImageFileFormat?)>();
        var skipped = new List<(string, string)>();
        int other = 0;
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            string dir = pending.Pop();
            string[] files, dirs;
            try
            {
                files = Directory.GetFiles(dir);
                dirs = _options.Recursive ? Directory.GetDirectories(dir) : [];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skipped.Add((dir, $"cannot list the folder: {e.Message}"));
                continue;
            }

            foreach (string f in files)
            {
                if (_extensions.Contains(Path.GetExtension(f)))
                {
                    candidates.Add((f, null));
                    continue;
                }

                ImageFileFormat? sniffed = null;
                if (_options.SniffAllFiles)
                {
                    try
                    {
                        sniffed = ImageFormatSniffer.Sniff(f);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        skipped.Add((f, $"cannot read the file to sniff it: {e.Message}"));
                        continue;
                    }
                }

                if (sniffed is not null) candidates.Add((f, sniffed));
                else other++;
            }

            foreach (string d in dirs)
            {
                if (new DirectoryInfo(d).LinkTarget is not null) skipped.Add((d, "a symbolic link to a folder (not followed)"));
                else pending.Push(d);
            }
        }

        candidates.Sort((a, b) => string.CompareOrdinal(Path.GetRelativePath(root, a.Item1).Replace('\\', '/'), Path.GetRelativePath(root, b.Item1).Replace('\\', '/')));
        skipped.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return (candidates, skipped, other);
    }

    private static string HexHeader(string path)
    {
        try
        {
            Span<byte> b = stackalloc byte[8];
            using var fs = File.OpenRead(path);
            int n = fs.ReadAtLeast(b, b.Length, throwOnEndOfStream: false);
            return $": {Convert.ToHexString(b[..n])}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}

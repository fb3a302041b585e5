using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// <c>dataset.json</c>, written last by <see cref="GeoDatasetWriter"/> (and by <see cref="GeoDatasetWriter.Rehash"/>):
/// the row count, the files of the dataset and, from version 2, each file's length, SHA-256, head-and-tail
/// hash and modification time, checked when the dataset is opened (see <see cref="Check"/>). Version 1
/// manifests (no hashes) are still read; see <see cref="DatasetIntegrity.NoHashes"/>.
/// </summary>
internal sealed record DatasetManifest(long Rows, long MetaBytes, string MetaFile, string? CoordinatesFile, IReadOnlyList<string> Modalities, IReadOnlyList<DatasetFileRecord>? Files)
{
    public const string FileName = "dataset.json";
    public const string Format = "geotoken-dataset";
    public const int Version = 2;

    /// <summary>The command that re-derives a dataset's sidecar and hashes from its <c>meta.csv</c> and feature files.</summary>
    public static string RehashCommand(string folder) => $"geotoken dataset rehash {folder}";

    /// <summary>A hash of every recorded file's SHA-256 and the row count: the dataset's content identity (null without hashes).</summary>
    public string? ContentId
    {
        get
        {
            if (Files is null) return null;
            var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"rows {Rows}\n");
            foreach (var f in Files.OrderBy(f => f.Name, StringComparer.Ordinal)) text.Append(CultureInfo.InvariantCulture, $"{f.Name} {f.Sha256}\n");
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        }
    }

    /// <summary>Records the files of a dataset just written to <paramref name="folder"/>.</summary>
    public static DatasetManifest Create(string folder, long rows, string metaFile, string? coordinatesFile, IReadOnlyList<string> modalities, CancellationToken cancellationToken = default)
    {
        var names = new List<string> { metaFile };
        if (coordinatesFile is not null) names.Add(coordinatesFile);
        names.AddRange(modalities);
        var files = names.Select(n => DatasetFileRecord.Of(folder, n, cancellationToken)).ToArray();
        return new DatasetManifest(rows, files[0].Bytes, metaFile, coordinatesFile, modalities, files);
    }

    public static DatasetManifest? TryRead(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        if (new FileInfo(path).Length > MaxBytes) throw new GeoDatasetException($"{path}: is {new FileInfo(path).Length} bytes, more than a dataset manifest ever holds ({MaxBytes}); it is not a dataset manifest.");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (root.GetProperty("format").GetString() != Format) return null;
            int version = root.GetProperty("version").GetInt32();
            if (version is < 1 or > Version) return null;
            string? coords = root.TryGetProperty("coordinates", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var modalities = root.GetProperty("modalities").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
            DatasetFileRecord[]? files = null;
            if (version >= 2)
            {
                files = root.GetProperty("files").EnumerateArray().Select(f => new DatasetFileRecord(
                    SafeName(f.GetProperty("name").GetString()),
                    f.GetProperty("bytes").GetInt64(),
                    Hex(f.GetProperty("sha256").GetString()),
                    Hex(f.GetProperty("headTailSha256").GetString()),
                    f.GetProperty("modifiedUtcTicks").GetInt64())).ToArray();
            }

            return new DatasetManifest(root.GetProperty("rows").GetInt64(), root.GetProperty("metaBytes").GetInt64(), root.GetProperty("meta").GetString() ?? "meta.csv", coords, modalities, files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new GeoDatasetException($"{path}: is not a valid dataset manifest ({e.Message}). Re-run the command that wrote the dataset, or run '{RehashCommand(folder)}'.");
        }
    }

    /// <summary>
    /// Checks every recorded file against the folder: present, same length; <c>meta.csv</c> and the
    /// coordinate sidecar by their full SHA-256; feature files by their head-and-tail hash and, when their
    /// modification time changed, their full SHA-256 (always in full when <paramref name="full"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A file differs; the message names it and how to re-derive the dataset.</exception>
    public void Check(string folder, bool full, CancellationToken cancellationToken = default)
    {
        if (Files is null) return;
        string manifest = Path.Combine(folder, FileName);
        string Fix() => $"Re-run the command that wrote the dataset; or, if the edit was intended, run '{RehashCommand(folder)}' to re-derive {GeoDataset.CoordinatesFileName} from {MetaFile} and record the new hashes.";
        foreach (var f in Files)
        {
            string path = Path.Combine(folder, f.Name);
            var info = new FileInfo(path);
            if (!info.Exists) throw new InvalidDataException($"{path} is missing but {manifest} records it as part of the dataset. {Fix()}");
            if (info.Length != f.Bytes)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path} has {info.Length} bytes but {manifest} records {f.Bytes}: the file changed after the dataset was written. {Fix()}"));
            }

            bool always = f.Name == MetaFile || f.Name == CoordinatesFile;
            if (!always && !full)
            {
                if (FileHash.HeadTailSha256(path) != f.HeadTailSha256) throw Changed(path, "the SHA-256 of its first and last MiB");
                if (info.LastWriteTimeUtc.Ticks == f.ModifiedUtcTicks) continue;
            }

            if (FileHash.Sha256(path, cancellationToken) != f.Sha256) throw Changed(path, "its SHA-256");
        }

        InvalidDataException Changed(string path, string what) =>
            new($"{path}: {what} differs from what {manifest} records: the file was modified after the dataset was written. {Fix()}");
    }

    public void Write(string folder)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Files is null ? 1 : Version);
            w.WriteNumber("rows", Rows);
            w.WriteString("meta", MetaFile);
            w.WriteNumber("metaBytes", MetaBytes);
            if (CoordinatesFile is null) w.WriteNull("coordinates");
            else w.WriteString("coordinates", CoordinatesFile);
            w.WriteStartArray("modalities");
            foreach (var m in Modalities) w.WriteStringValue(m);
            w.WriteEndArray();
            if (Files is not null)
            {
                w.WriteStartArray("files");
                foreach (var f in Files)
                {
                    w.WriteStartObject();
                    w.WriteString("name", f.Name);
                    w.WriteNumber("bytes", f.Bytes);
                    w.WriteString("sha256", f.Sha256);
                    w.WriteString("headTailSha256", f.HeadTailSha256);
                    w.WriteNumber("modifiedUtcTicks", f.ModifiedUtcTicks);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        AtomicFile.WriteAllText(Path.Combine(folder, FileName), Encoding.UTF8.GetString(ms.ToArray()) + "\n");
    }

    /// <summary>The most bytes a manifest may have (it lists a handful of files).</summary>
    private const int MaxBytes = 1 << 20;

    private static string SafeName(string? name) =>
        !string.IsNullOrEmpty(name) && name == Path.GetFileName(name) && name is not ("." or "..")
            ? name
            : throw new FormatException($"file name '{name}' is not a plain file name inside the dataset folder");

    private static string Hex(string? value) =>
        value is { Length: 64 } && value.All(char.IsAsciiHexDigitLower) ? value : throw new FormatException($"'{value}' is not a lowercase hex SHA-256");
}

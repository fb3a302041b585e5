using System.Text;
using System.Text.Json;
using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// <c>dataset.json</c>, written last by <see cref="GeoDatasetWriter"/>: the row count and the byte
/// length of the <c>meta.csv</c> the coordinate sidecar was written with. A sidecar is used only when
/// the current <c>meta.csv</c> still has that length (an O(1) staleness check).
/// </summary>
internal sealed record DatasetManifest(long Rows, long MetaBytes, string MetaFile, string? CoordinatesFile, IReadOnlyList<string> Modalities)
{
    public const string FileName = "dataset.json";
    public const string Format = "geotoken-dataset";
    public const int Version = 1;

    public static DatasetManifest? TryRead(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (root.GetProperty("format").GetString() != Format) return null;
            if (root.GetProperty("version").GetInt32() != Version) return null;
            string? coords = root.TryGetProperty("coordinates", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var modalities = root.GetProperty("modalities").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
            return new DatasetManifest(root.GetProperty("rows").GetInt64(), root.GetProperty("metaBytes").GetInt64(), root.GetProperty("meta").GetString() ?? "meta.csv", coords, modalities);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new GeoDatasetException($"{path}: is not a valid dataset manifest ({e.Message}). Delete it to open the dataset from meta.csv alone.");
        }
    }

    public void Write(string folder)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteNumber("rows", Rows);
            w.WriteString("meta", MetaFile);
            w.WriteNumber("metaBytes", MetaBytes);
            if (CoordinatesFile is null) w.WriteNull("coordinates");
            else w.WriteString("coordinates", CoordinatesFile);
            w.WriteStartArray("modalities");
            foreach (var m in Modalities) w.WriteStringValue(m);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        AtomicFile.WriteAllText(Path.Combine(folder, FileName), Encoding.UTF8.GetString(ms.ToArray()) + "\n");
    }
}

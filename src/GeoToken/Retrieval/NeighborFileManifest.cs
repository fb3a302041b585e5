using System.Text;
using System.Text.Json;
using GeoToken.IO;

namespace GeoToken.Retrieval;

/// <summary>
/// The sidecar <c>PREFIX.json</c> of neighbor files: the SHA-256 of <c>PREFIX_I.npy</c> and <c>PREFIX_D.npy</c>
/// and the <see cref="NeighborFileProvenance"/> they were computed from. Written last by <see cref="NeighborFileWriter"/>.
/// </summary>
internal sealed record NeighborFileManifest(long Queries, int K, string IndicesSha256, string SimilaritiesSha256, NeighborFileProvenance? Provenance)
{
    public const string Format = "geotoken-neighbors";
    public const int Version = 1;
    private const int MaxBytes = 1 << 20;

    public static string PathFor(string prefix) => Path.GetFullPath(prefix + ".json");

    public void Write(string path)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteNumber("queries", Queries);
            w.WriteNumber("k", K);
            w.WriteString("indicesSha256", IndicesSha256);
            w.WriteString("similaritiesSha256", SimilaritiesSha256);
            if (Provenance is { } p)
            {
                w.WriteString("queriesId", p.QueriesId);
                w.WriteString("galleryId", p.GalleryId);
                if (p.Settings is null) w.WriteNull("settings");
                else w.WriteString("settings", p.Settings);
            }

            w.WriteEndObject();
        }

        AtomicFile.WriteAllText(path, Encoding.UTF8.GetString(ms.ToArray()) + "\n");
    }

    /// <summary>Reads the sidecar of <paramref name="prefix"/>.</summary>
    /// <exception cref="InvalidDataException">It is missing or malformed (the message names it).</exception>
    public static NeighborFileManifest Read(string prefix)
    {
        string path = PathFor(prefix);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{path} is missing: neighbor files {prefix}_I.npy/_D.npy without their sidecar cannot be checked against the datasets they are used with. Recompute them (geotoken retrieve).");
        }

        if (new FileInfo(path).Length > MaxBytes) throw new InvalidDataException($"{path} has {new FileInfo(path).Length} bytes; a neighbor-file sidecar has a few hundred.");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            if (r.GetProperty("format").GetString() != Format || r.GetProperty("version").GetInt32() != Version)
            {
                throw new InvalidDataException($"{path} is not a version {Version} '{Format}' sidecar.");
            }

            NeighborFileProvenance? provenance = r.TryGetProperty("queriesId", out var q) && q.ValueKind == JsonValueKind.String
                ? new NeighborFileProvenance(q.GetString()!, r.GetProperty("galleryId").GetString() ?? "", r.TryGetProperty("settings", out var s) ? s.GetString() : null)
                : null;
            return new NeighborFileManifest(r.GetProperty("queries").GetInt64(), r.GetProperty("k").GetInt32(),
                r.GetProperty("indicesSha256").GetString() ?? "", r.GetProperty("similaritiesSha256").GetString() ?? "", provenance);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path} is not a valid neighbor-file sidecar ({e.Message}). Recompute the neighbor files.", e);
        }
    }
}

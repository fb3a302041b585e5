using System.Text.Json;
using System.Text.Json.Serialization;
using GeoToken.IO;

namespace GeoToken.Photos;

/// <summary>
/// <c>gallery-manifest.json</c> in a gallery's dataset folder: the encoder that built it and every
/// photo file processed (included in the gallery or failed to decode) with its size, modification
/// time and SHA-256, in dataset row order for the included ones. Written atomically.
/// </summary>
internal sealed record GalleryManifest
{
    public const string FileName = "gallery-manifest.json";
    public const string FormatName = "geotoken-photo-gallery";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Format { get; init; } = FormatName;

    public int Version { get; init; } = 1;

    public required string EncoderId { get; init; }

    public required int Dimension { get; init; }

    public required string PhotoFolder { get; init; }

    public required IReadOnlyList<Entry> Files { get; init; }

    /// <summary>One processed photo file.</summary>
    internal sealed record Entry
    {
        public required string Path { get; init; }

        public required long Size { get; init; }

        public required long ModifiedUtcTicks { get; init; }

        public required string Sha256 { get; init; }

        /// <summary>Whether the photo is a row of the dataset (else it failed to decode: see <see cref="Problem"/>).</summary>
        public required bool Included { get; init; }

        public string? Problem { get; init; }
    }

    /// <summary>The manifest in <paramref name="folder"/>, null when absent; a reason instead when it is unreadable.</summary>
    public static (GalleryManifest? Manifest, string? Problem) TryLoad(string folder)
    {
        string path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path)) return (null, null);
        try
        {
            var m = JsonSerializer.Deserialize<GalleryManifest>(File.ReadAllText(path), Json);
            if (m is null || m.Format != FormatName || m.Version != 1 || m.Files is null) return (null, $"{path} is not a version-1 {FormatName} manifest");
            return (m, null);
        }
        catch (JsonException e)
        {
            return (null, $"{path} is not valid JSON: {e.Message}");
        }
    }

    public void Save(string folder) => AtomicFile.WriteAllText(System.IO.Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json));
}

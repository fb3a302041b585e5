using System.Text.Json;

namespace GeoToken.Decoding;

public static partial class GeoTokenRuntimes
{
    /// <summary>The largest <c>config.json</c> <see cref="ReadFolderFormat"/> reads (a model's is a few kilobytes).</summary>
    public const int MaxConfigBytes = 1 << 20;

    /// <summary>
    /// The <c>format</c> field of a model folder's <c>config.json</c> (<c>geotoken-model</c>: TorchSharp;
    /// <c>geotoken-onnx</c>: an ONNX export), for runtimes deciding whether they open it (<see cref="IGeoTokenRuntime.CanOpen"/>).
    /// </summary>
    /// <param name="path">A folder or its <c>config.json</c>.</param>
    /// <returns>The field, or null when <paramref name="path"/> is no folder with a readable JSON <c>config.json</c> of at most <see cref="MaxConfigBytes"/> bytes naming a format.</returns>
    public static string? ReadFolderFormat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string config = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (Path.GetFileName(config) != "config.json" || !File.Exists(config)) return null;
        try
        {
            if (new FileInfo(config).Length > MaxConfigBytes) return null;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(config));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

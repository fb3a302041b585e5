using System.Text.Json;
using System.Text.Json.Serialization;
using GeoToken.IO;

namespace GeoToken.Cli;

/// <summary>Writes machine-readable results (snake_case JSON), atomically.</summary>
internal static class JsonReport
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write<T>(string path, T value) =>
        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, value, Options));
}

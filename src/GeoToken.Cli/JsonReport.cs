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

    public static void Write<T>(string path, T value)
    {
        if (Path.GetFileName(path) == StandardOutputName && StandardOutput.Value is { } writer)
        {
            writer.WriteLine(JsonSerializer.Serialize(value, Options));
            return;
        }

        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, value, Options));
    }

    /// <summary>The <c>--json</c> value that means standard output.</summary>
    public const string StandardOutputName = "-";

    /// <summary>Where <c>--json -</c> writes: the run's standard output (set by <see cref="GeoTokenCli.RunAsync"/>; the human-readable report then goes to standard error).</summary>
    public static readonly AsyncLocal<TextWriter?> StandardOutput = new();
}

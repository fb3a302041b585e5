using System.Text.Json;
using System.Text.Json.Serialization;

namespace GeoToken.Cli.Torch;

/// <summary>
/// What <c>geotoken setup torch</c> set up: <c>libtorch-&lt;version&gt;.json</c> in the geotoken home folder
/// (one per libtorch version, so a tool built on another version never picks it up).
/// </summary>
internal sealed record LibTorchSetupRecord
{
    /// <summary><c>cpu</c> or <c>cuda</c>.</summary>
    public required string Backend { get; init; }

    /// <summary>The runtime identifier the libraries are for (<c>linux-x64</c>, …).</summary>
    public required string RuntimeIdentifier { get; init; }

    /// <summary>The libtorch version.</summary>
    public required string LibTorchVersion { get; init; }

    /// <summary>The NuGet package that brought the libraries.</summary>
    public required string Package { get; init; }

    /// <summary>The folder holding libtorch's native libraries.</summary>
    public required string Directory { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The record's path for a libtorch version under <paramref name="home"/>.</summary>
    public static string PathFor(string home, string libTorchVersion) => Path.Combine(home, $"libtorch-{libTorchVersion}.json");

    /// <summary>Reads the record, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a setup record (names the file).</exception>
    public static LibTorchSetupRecord? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<LibTorchSetupRecord>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"'{path}' is empty; run 'geotoken setup torch --force'.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a libtorch setup record ({e.Message}); run 'geotoken setup torch --force'.", e);
        }
    }

    /// <summary>Serialises the record.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

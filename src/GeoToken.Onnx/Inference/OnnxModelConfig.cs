using System.Text.Json;
using System.Text.Json.Serialization;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// The <c>config.json</c> of an exported GeoToken transformer folder (written by <c>geotoken export onnx</c>):
/// format, model shape, tokenizer, opset and the two graphs with their SHA-256 and input/output names.
/// </summary>
/// <remarks>
/// <para>The folder holds <c>encoder.onnx</c> (features and neighbor tokens → per-layer cross-attention keys/values and,
/// with the copy head, the copy keys) and <c>decoder_step.onnx</c> (one cached decoding step). See
/// <see cref="OnnxGeoTokenModel"/> for the tensors each graph takes and returns.</para>
/// </remarks>
public sealed record OnnxModelConfig
{
    /// <summary>The value of <see cref="Format"/> in every export.</summary>
    public const string FormatName = "geotoken-onnx";

    /// <summary>The format version this library writes and reads.</summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>The configuration file's name in an export folder.</summary>
    public const string FileName = "config.json";

    /// <summary>The largest <c>config.json</c> accepted, in bytes (a real one is a few kilobytes).</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>JSON settings of the file: camelCase, enums as strings, unknown members refused.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    /// <summary>Always <see cref="FormatName"/>.</summary>
    public required string Format { get; init; }

    /// <summary>The format version (<see cref="CurrentFormatVersion"/>).</summary>
    public required int FormatVersion { get; init; }

    /// <summary>What wrote the folder (library and version).</summary>
    public required string Producer { get; init; }

    /// <summary>The ONNX default-domain opset the graphs import.</summary>
    public required int Opset { get; init; }

    /// <summary>The transformer's shape.</summary>
    public required OnnxModelShape Model { get; init; }

    /// <summary>Tokens per sequence, <c>T</c>.</summary>
    public required int SequenceLength { get; init; }

    /// <summary>Vocabulary size of each position, <c>V_p</c> (<c>T</c> entries).</summary>
    public required IReadOnlyList<int> VocabularySizes { get; init; }

    /// <summary>The encoder graph.</summary>
    public required OnnxGraphInfo Encoder { get; init; }

    /// <summary>The one-step decoder graph.</summary>
    public required OnnxGraphInfo DecoderStep { get; init; }
}

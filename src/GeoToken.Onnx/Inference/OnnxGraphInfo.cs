namespace GeoToken.Onnx.Inference;

/// <summary>One exported graph as <c>config.json</c> records it: file name, checksum and its inputs and outputs in order.</summary>
public sealed record OnnxGraphInfo
{
    /// <summary>The graph's file name inside the export folder (e.g. <c>encoder.onnx</c>).</summary>
    public required string File { get; init; }

    /// <summary>SHA-256 of the file, lowercase hexadecimal; checked when the folder is opened.</summary>
    public required string Sha256 { get; init; }

    /// <summary>The graph's input names, in order.</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>The graph's output names, in order.</summary>
    public required IReadOnlyList<string> Outputs { get; init; }
}

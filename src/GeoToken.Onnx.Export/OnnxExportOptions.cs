namespace GeoToken.Onnx.Export;

/// <summary>Options of <see cref="GeoTokenOnnxExporter.Export"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Replace the files of an earlier export in the folder (default false: an existing file is refused).</summary>
    public bool Overwrite { get; init; }
}

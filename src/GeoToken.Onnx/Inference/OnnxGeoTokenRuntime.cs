using GeoToken.Decoding;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// The ONNX Runtime runtime of GeoToken models (<see cref="IGeoTokenRuntime"/>): opens folders written by
/// <c>geotoken export onnx</c> as <see cref="OnnxGeoTokenModel"/>, without TorchSharp or libtorch. The execution provider
/// (CPU by default; CUDA, DirectML, CoreML) comes from the ONNX Runtime package the application references and
/// <see cref="OnnxGeoTokenModelOptions"/>.
/// </summary>
/// <param name="options">Session settings (null: the defaults, CPU).</param>
public sealed class OnnxGeoTokenRuntime(OnnxGeoTokenModelOptions? options = null) : IGeoTokenRuntime
{
    /// <summary>The runtime's name, <c>ONNX Runtime</c>.</summary>
    public const string RuntimeName = "ONNX Runtime";

    /// <summary>The runtime with the default session settings (CPU).</summary>
    public static OnnxGeoTokenRuntime Default { get; } = new();

    /// <summary>The session settings models open with.</summary>
    public OnnxGeoTokenModelOptions Options { get; } = options ?? new OnnxGeoTokenModelOptions();

    /// <inheritdoc/>
    public string Name => RuntimeName;

    /// <inheritdoc/>
    public string Formats => "a folder written by geotoken export onnx (or its config.json)";

    /// <summary>A folder (or its <c>config.json</c>) whose config names the <c>geotoken-onnx</c> format.</summary>
    public bool CanOpen(string modelPath)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        return GeoTokenRuntimes.ReadFolderFormat(modelPath) == OnnxModelConfig.FormatName;
    }

    /// <inheritdoc/>
    public IRuntimeModel Open(string modelPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        cancellationToken.ThrowIfCancellationRequested();
        return new OnnxGeoTokenModel(Directory.Exists(modelPath) ? modelPath : Path.GetDirectoryName(Path.GetFullPath(modelPath))!, Options);
    }
}

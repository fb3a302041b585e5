using System.Globalization;
using GeoToken.Model;

namespace GeoToken.Decoding;

/// <summary>
/// The TorchSharp runtime of GeoToken models (<see cref="IGeoTokenRuntime"/>): opens model folders, their
/// <c>config.json</c> and <c>.gtm</c> files (<see cref="GeoTokenModelFile"/>) on a torch device, in evaluation mode. Needs
/// a native libtorch package in the application (see <see cref="TorchRuntime"/>); an application that only predicts can
/// use <c>OnnxGeoTokenRuntime</c> (GeoToken.Onnx) on an ONNX export instead.
/// </summary>
/// <param name="device">Where the model runs: <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c> (with a CUDA libtorch package).</param>
public sealed class TorchGeoTokenRuntime(string device = "cpu") : IGeoTokenRuntime
{
    /// <summary>The runtime's name, <c>TorchSharp</c>.</summary>
    public const string RuntimeName = "TorchSharp";

    /// <summary>The runtime on the CPU.</summary>
    public static TorchGeoTokenRuntime Cpu { get; } = new();

    /// <summary>The torch device models open on.</summary>
    public string Device { get; } = string.IsNullOrWhiteSpace(device) ? throw new ArgumentException("The torch device is empty (cpu, cuda or cuda:N).", nameof(device)) : device;

    /// <inheritdoc/>
    public string Name => RuntimeName;

    /// <inheritdoc/>
    public string Formats => "a model folder, its config.json or a .gtm file (geotoken train)";

    /// <summary>A <c>.gtm</c> file, or a model folder (or its <c>config.json</c>) that is not an ONNX export; a damaged folder is accepted so that loading names what is wrong.</summary>
    public bool CanOpen(string modelPath)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (GeoTokenModelFile.IsSingleFilePath(modelPath)) return File.Exists(modelPath);
        return GeoTokenModelFolder.TryResolve(modelPath, out string folder) && GeoTokenRuntimes.ReadFolderFormat(folder) != "geotoken-onnx";
    }

    /// <inheritdoc/>
    public IRuntimeModel Open(string modelPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        cancellationToken.ThrowIfCancellationRequested();
        var model = GeoTokenModelFile.Load(modelPath, TorchDevices.Parse(Device));
        model.eval();
        return new TorchRuntimeModel(model, modelPath);
    }

    /// <summary>The runtime model of an already loaded <paramref name="model"/> (put in evaluation mode); it takes ownership.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">Where it came from, for messages.</param>
    public static IRuntimeModel Wrap(GeoTokenModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.eval();
        return new TorchRuntimeModel(model, path);
    }

    /// <summary>What <paramref name="options"/> describe, as <see cref="RuntimeModelInfo"/>.</summary>
    internal static RuntimeModelInfo Describe(GeoTokenModelOptions options, long parameters) => new()
    {
        ModalityCount = options.ModalityCount,
        FeatureDimension = options.FeatureDimension,
        NeighborCount = options.NeighborCount,
        ModelDimension = options.ModelDimension,
        Tokenizer = options.Tokenizer,
        ParameterCount = parameters,
        Description = string.Create(CultureInfo.InvariantCulture, $"{parameters:N0} parameters, d = {options.ModelDimension}, {options.EncoderLayers} + {options.DecoderLayers} layers, {options.ModalityCount} view(s) of {options.FeatureDimension}, k = {options.NeighborCount}, {options.ContextLayout} layout{(options.NeighborCopy ? ", neighbor-copy head" : "")}"),
    };
}

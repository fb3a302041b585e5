using System.CommandLine;
using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Onnx.Inference;

namespace GeoToken.Cli;

/// <summary>The <c>--model</c> option of the commands that use a trained model: a model folder or a <c>.gtm</c> file.</summary>
internal static class ModelSetting
{
    public static Option<FileInfo> Create(string description = "Trained model (geotoken train): a model folder (config.json + model.safetensors), its config.json, or a .gtm file.") =>
        new("--model") { HelpName = "DIR|M.gtm", Description = description, Required = true };

    /// <summary>The <c>--model</c> option of the commands that run a model on either runtime (TorchSharp or an ONNX export).</summary>
    public static Option<FileInfo> CreateForInference() => Create(
        "Trained model: a model folder (config.json + model.safetensors), its config.json or a .gtm file (geotoken train; runs on TorchSharp), or a folder written by geotoken export onnx (runs on ONNX Runtime, no libtorch). The runtime follows from what is given.");

    /// <summary>The runtimes a command's model may run on: TorchSharp on <paramref name="device"/> for model files, ONNX Runtime (CPU) for ONNX exports.</summary>
    public static IReadOnlyList<IGeoTokenRuntime> Runtimes(string device) => [new TorchGeoTokenRuntime(device), OnnxGeoTokenRuntime.Default];
}

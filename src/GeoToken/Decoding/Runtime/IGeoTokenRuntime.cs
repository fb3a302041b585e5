namespace GeoToken.Decoding;

/// <summary>
/// A runtime that runs GeoToken models of one format: TorchSharp (<c>TorchGeoTokenRuntime</c> in GeoToken.Model: model
/// folders and <c>.gtm</c> files) or ONNX Runtime (<c>OnnxGeoTokenRuntime</c> in GeoToken.Onnx: folders written by
/// <c>geotoken export onnx</c>). The predictor and the evaluation take a list of runtimes and open the model with the first
/// that recognises it (<see cref="GeoTokenRuntimes.Open"/>), so an application chooses its runtime by the package it adds.
/// </summary>
public interface IGeoTokenRuntime
{
    /// <summary>The runtime's name as messages and reports show it (e.g. <c>TorchSharp</c>, <c>ONNX Runtime</c>).</summary>
    string Name { get; }

    /// <summary>What models the runtime opens, for messages (e.g. <c>a model folder, its config.json or a .gtm file</c>).</summary>
    string Formats { get; }

    /// <summary>Whether <paramref name="modelPath"/> is a model of this runtime's format (by its name and header; the model is not loaded).</summary>
    /// <param name="modelPath">A file or folder.</param>
    bool CanOpen(string modelPath);

    /// <summary>Loads the model for inference (evaluation mode). The caller owns and disposes it.</summary>
    /// <param name="modelPath">A path <see cref="CanOpen"/> accepts.</param>
    /// <param name="cancellationToken">Cancels loading.</param>
    /// <exception cref="FileNotFoundException">The model or one of its files is missing.</exception>
    /// <exception cref="InvalidDataException">The model is damaged or inconsistent; the message names the file.</exception>
    IRuntimeModel Open(string modelPath, CancellationToken cancellationToken = default);
}

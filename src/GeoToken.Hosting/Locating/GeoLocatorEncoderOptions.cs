using GeoToken.Onnx;
using GeoToken.Preprocessing;

namespace GeoToken.Hosting.Locating;

/// <summary>One ONNX image encoder of a <see cref="GeoLocator"/> (settable, for configuration binding).</summary>
public sealed class GeoLocatorEncoderOptions
{
    /// <summary>The preprocessing names: <c>clip</c>, <c>imagenet</c>, <c>caffe-squeezenet</c>.</summary>
    public static IReadOnlyList<string> PreprocessingNames { get; } = ["clip", "imagenet", "caffe-squeezenet"];

    /// <summary>The ONNX model file (the encoder whose features the gallery and the model were made with). Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>Its preprocessing: <c>clip</c> (default), <c>imagenet</c> or <c>caffe-squeezenet</c> (case-insensitive).</summary>
    public string Preprocessing { get; set; } = "clip";

    /// <summary>The tensor used as features (default null: the model's first float output; e.g. <c>pool10_flattened</c>).</summary>
    public string? OutputName { get; set; }

    /// <summary>The preprocessing named <paramref name="name"/>, or null when no preprocessing has that name.</summary>
    public static ImagePreprocessing? FindPreprocessing(string? name) => name?.ToLowerInvariant() switch
    {
        "clip" => ImagePreprocessing.Clip,
        "imagenet" => ImagePreprocessing.ImageNet,
        "caffe-squeezenet" => ImagePreprocessing.CaffeSqueezeNet,
        _ => null,
    };

    /// <summary>The encoder's settings.</summary>
    /// <exception cref="ArgumentException"><see cref="Preprocessing"/> names no preprocessing; the message lists the names.</exception>
    public OnnxImageEncoderOptions ToEncoderOptions() => new()
    {
        Preprocessing = FindPreprocessing(Preprocessing)
            ?? throw new ArgumentException($"Unknown preprocessing '{Preprocessing}'; use {string.Join(", ", PreprocessingNames)}."),
        OutputName = OutputName,
    };
}

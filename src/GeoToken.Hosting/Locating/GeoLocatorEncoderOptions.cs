namespace GeoToken.Hosting.Locating;

/// <summary>One ONNX image encoder of a <see cref="GeoLocator"/> (settable, for configuration binding).</summary>
public sealed class GeoLocatorEncoderOptions
{
    /// <summary>The ONNX model file (the encoder whose features the gallery and the model were made with). Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>Its preprocessing: <c>clip</c> (default), <c>imagenet</c> or <c>caffe-squeezenet</c>.</summary>
    public string Preprocessing { get; set; } = "clip";

    /// <summary>The tensor used as features (default null: the model's first float output; e.g. <c>pool10_flattened</c>).</summary>
    public string? OutputName { get; set; }
}

namespace GeoToken.Preprocessing;

/// <summary>The memory layout of one image in the model's input tensor.</summary>
public enum TensorLayout
{
    /// <summary>Channels first: [N, 3, H, W] (PyTorch, ONNX exports of PyTorch models).</summary>
    Nchw,

    /// <summary>Channels last: [N, H, W, 3] (TensorFlow/Keras exports).</summary>
    Nhwc,
}

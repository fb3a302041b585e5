namespace GeoToken.Preprocessing;

/// <summary>The order of the colour channels in the model's input tensor.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (PyTorch/torchvision models, CLIP).</summary>
    Rgb,

    /// <summary>Blue, green, red (Caffe and OpenCV models).</summary>
    Bgr,
}

namespace GeoToken.Onnx;

/// <summary>How the chosen output tensor of one image becomes its embedding vector.</summary>
public enum OutputPooling
{
    /// <summary>All of the image's output values in order (shape [N, D] → D; [N, C, 1, 1] → C; [N, C, H, W] → C·H·W).</summary>
    Flatten,

    /// <summary>Mean over every axis after the channel axis: a CNN feature map [N, C, H, W] → C (like <c>GlobalAveragePool</c>).</summary>
    GlobalAveragePool,

    /// <summary>The first token of a transformer's hidden states [N, T, D] → D (the CLS token of a ViT).</summary>
    FirstToken,
}

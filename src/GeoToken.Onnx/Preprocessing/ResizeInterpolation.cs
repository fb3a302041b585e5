namespace GeoToken.Preprocessing;

/// <summary>
/// The resampling filter used to resize images. Both are Pillow's antialiased convolution filters
/// (the filter is widened by the scale factor when shrinking), computed with Pillow's 8-bit
/// fixed-point arithmetic, so results equal <c>PIL.Image.resize</c> — and hence torchvision's
/// <c>Resize</c> on PIL images, as CLIP and GeoCLIP use — byte for byte.
/// </summary>
public enum ResizeInterpolation
{
    /// <summary>Bicubic (Keys cubic, a = −0.5, support 2): <c>PIL.Image.BICUBIC</c>, CLIP's choice.</summary>
    Bicubic,

    /// <summary>Bilinear (triangle, support 1): <c>PIL.Image.BILINEAR</c>, torchvision's default.</summary>
    Bilinear,
}

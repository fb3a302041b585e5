using System.Globalization;

namespace GeoToken.Preprocessing;

/// <summary>
/// How an upright <see cref="Imaging.RgbImage"/> becomes a model input: resize so the shorter side is
/// <see cref="ResizeShorterSide"/> (aspect ratio kept), centre-crop <see cref="CropWidth"/> ×
/// <see cref="CropHeight"/>, optionally scale bytes to [0, 1], normalise each channel with
/// <c>(x − Mean) / Std</c>, and lay out as <see cref="Layout"/> in <see cref="ChannelOrder"/>.
/// The defaults are the <see cref="Clip"/> preset.
/// </summary>
/// <remarks>
/// The geometry follows torchvision exactly: the longer side becomes
/// <c>int(S × long / short)</c> (truncated), the crop offset is <c>round((size − crop) / 2)</c> with
/// round-half-to-even (or floor, see <see cref="CropOffsetRounding"/>), and a crop larger than the resized image is padded with black (0) before
/// normalisation. Resizing is Pillow's (see <see cref="ResizeInterpolation"/>), so a PIL-based
/// Python pipeline and this one produce the same tensor from the same RGB pixels.
/// </remarks>
public sealed record ImagePreprocessing
{
    /// <summary>
    /// OpenAI CLIP (and GeoCLIP, which uses CLIP ViT-L/14's processor): shorter side 224 bicubic,
    /// centre crop 224 × 224, [0, 1], mean (0.48145466, 0.4578275, 0.40821073), std
    /// (0.26862954, 0.26130258, 0.27577711), RGB, NCHW. For the 336-pixel CLIP models use
    /// <c>Clip with { ResizeShorterSide = 336, CropWidth = 336, CropHeight = 336 }</c>; for GeoCLIP,
    /// which preprocesses with Hugging Face's <c>CLIPImageProcessor</c>, use
    /// <c>Clip with { CropOffsetRounding = CropOffsetRounding.Floor }</c>.
    /// </summary>
    public static ImagePreprocessing Clip { get; } = new();

    /// <summary>
    /// torchvision's ImageNet evaluation transform: shorter side 256 bilinear, centre crop 224 × 224,
    /// [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), RGB, NCHW.
    /// </summary>
    public static ImagePreprocessing ImageNet { get; } = new()
    {
        ResizeShorterSide = 256,
        Interpolation = ResizeInterpolation.Bilinear,
        Mean = new(0.485f, 0.456f, 0.406f),
        Std = new(0.229f, 0.224f, 0.225f),
    };

    /// <summary>
    /// Caffe-trained SqueezeNet 1.0 as exported through Core ML (e.g. the <c>squeezenet_snacks.onnx</c>
    /// test model): shorter side 227 bilinear, centre crop 227 × 227, raw pixel values 0–255 (no
    /// scaling, mean 0, std 1), <b>BGR</b>, NCHW. These models subtract the Caffe mean
    /// (B 104, G 117, R 123) inside the graph (an <c>ImageScaler</c> and a <c>BatchNormalization</c>
    /// on the input), as the input's doc string says; feeding ImageNet-normalised values would hand
    /// the network an almost uniform image.
    /// </summary>
    public static ImagePreprocessing CaffeSqueezeNet { get; } = new()
    {
        ResizeShorterSide = 227,
        CropWidth = 227,
        CropHeight = 227,
        Interpolation = ResizeInterpolation.Bilinear,
        ScaleToUnitRange = false,
        Mean = ChannelValues.All(0),
        Std = ChannelValues.All(1),
        ChannelOrder = ChannelOrder.Bgr,
    };

    /// <summary>Target length of the shorter side after resizing, in pixels. Default 224.</summary>
    public int ResizeShorterSide { get; init; } = 224;

    /// <summary>The resampling filter. Default <see cref="ResizeInterpolation.Bicubic"/>.</summary>
    public ResizeInterpolation Interpolation { get; init; } = ResizeInterpolation.Bicubic;

    /// <summary>Width of the centre crop (the model's input width). Default 224.</summary>
    public int CropWidth { get; init; } = 224;

    /// <summary>Height of the centre crop (the model's input height). Default 224.</summary>
    public int CropHeight { get; init; } = 224;

    /// <summary>How an odd crop margin is split. Default <see cref="CropOffsetRounding.HalfToEven"/> (torchvision).</summary>
    public CropOffsetRounding CropOffsetRounding { get; init; } = CropOffsetRounding.HalfToEven;

    /// <summary>
    /// Divide byte values by 255 before normalising (torchvision's <c>ToTensor</c>); when
    /// <see langword="false"/> the values stay 0–255 and <see cref="Mean"/>/<see cref="Std"/> are in
    /// that unit. Default <see langword="true"/>.
    /// </summary>
    public bool ScaleToUnitRange { get; init; } = true;

    /// <summary>Per-colour mean subtracted after scaling. Default CLIP's (0.48145466, 0.4578275, 0.40821073).</summary>
    public ChannelValues Mean { get; init; } = new(0.48145466f, 0.4578275f, 0.40821073f);

    /// <summary>Per-colour standard deviation divided by after subtracting the mean. Default CLIP's (0.26862954, 0.26130258, 0.27577711).</summary>
    public ChannelValues Std { get; init; } = new(0.26862954f, 0.26130258f, 0.27577711f);

    /// <summary>Channel order in the tensor. Default <see cref="Preprocessing.ChannelOrder.Rgb"/>.</summary>
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>Tensor layout. Default <see cref="TensorLayout.Nchw"/>.</summary>
    public TensorLayout Layout { get; init; } = TensorLayout.Nchw;

    /// <summary>Number of floats one preprocessed image occupies: <c>3 × CropHeight × CropWidth</c>.</summary>
    public int ValuesPerImage => 3 * CropHeight * CropWidth;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        if (ResizeShorterSide <= 0) throw new ArgumentException($"ResizeShorterSide must be positive; got {ResizeShorterSide}.");
        if (CropWidth <= 0 || CropHeight <= 0) throw new ArgumentException($"CropWidth and CropHeight must be positive; got {CropWidth}×{CropHeight}.");
        if ((long)CropWidth * CropHeight * 3 > int.MaxValue / 4) throw new ArgumentException($"A {CropWidth}×{CropHeight} crop is too large.");
        if (!Enum.IsDefined(Interpolation)) throw new ArgumentException($"Interpolation {Interpolation} is not defined.");
        if (!Enum.IsDefined(ChannelOrder)) throw new ArgumentException($"ChannelOrder {ChannelOrder} is not defined.");
        if (!Enum.IsDefined(CropOffsetRounding)) throw new ArgumentException($"CropOffsetRounding {CropOffsetRounding} is not defined.");
        if (!Enum.IsDefined(Layout)) throw new ArgumentException($"Layout {Layout} is not defined.");
        for (int c = 0; c < 3; c++)
        {
            if (!float.IsFinite(Mean[c])) throw new ArgumentException($"Mean[{c}] = {F(Mean[c])} is not finite.");
            if (!float.IsFinite(Std[c]) || Std[c] <= 0) throw new ArgumentException($"Std[{c}] = {F(Std[c])} must be positive and finite.");
        }
    }
}

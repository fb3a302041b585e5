namespace GeoToken.Preprocessing;

/// <summary>
/// How the centre crop's offset <c>(size − crop) / 2</c> is rounded when the difference is odd.
/// The two common CLIP pipelines differ here by one pixel.
/// </summary>
public enum CropOffsetRounding
{
    /// <summary><c>round((size − crop) / 2)</c>, half to even: torchvision's <c>CenterCrop</c> (OpenAI's <c>clip</c> package).</summary>
    HalfToEven,

    /// <summary><c>(size − crop) // 2</c>: Hugging Face's <c>CLIPImageProcessor</c> (used by GeoCLIP).</summary>
    Floor,
}

using GeoToken.Data;

namespace GeoToken.Photos;

/// <summary>Settings of a <see cref="PhotoGalleryBuilder"/>.</summary>
public sealed record PhotoGalleryOptions
{
    /// <summary>How the photo folder is scanned. Default <see cref="PhotoScanOptions"/>' defaults.</summary>
    public PhotoScanOptions Scan { get; init; } = new();

    /// <summary>How embeddings are stored in <c>image.npy</c>. Default <see cref="FeatureElementType.Float16"/> (the dataset writer's default).</summary>
    public FeatureElementType ElementType { get; init; } = FeatureElementType.Float16;

    /// <summary>
    /// Names the encoder in the manifest; a re-run with a different id (or dimension) is refused,
    /// because embeddings of different encoders cannot share a gallery. Default <see langword="null"/>:
    /// for an <see cref="Onnx.OnnxImageEncoder"/>, its model file name, output name and preprocessing
    /// size; otherwise the encoder's type name.
    /// </summary>
    public string? EncoderId { get; init; }

    /// <summary>Photos handed to the encoder at once (a decode failure re-runs only its chunk). Default 64.</summary>
    public int EncodeChunkSize { get; init; } = 64;

    /// <summary>
    /// Whether a non-empty dataset folder that this builder did not write (it has no gallery manifest)
    /// may be replaced. Default false: such a folder is refused, so that pointing <c>--out</c> at an
    /// existing dataset (a SynthGeo split, say) never deletes its files.
    /// </summary>
    public bool Overwrite { get; init; }
}

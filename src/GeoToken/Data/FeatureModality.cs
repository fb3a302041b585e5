namespace GeoToken.Data;

/// <summary>
/// The feature views of an image a dataset can hold (the paper feeds three): the CLIP image
/// embedding, the image→location head's output and the image→text head's output.
/// </summary>
public enum FeatureModality
{
    /// <summary>The image embedding (<c>image.npy</c>); every dataset has it.</summary>
    Image,

    /// <summary>The image→location view (<c>loc.npy</c>), optional.</summary>
    Location,

    /// <summary>The image→text view (<c>text.npy</c>), optional.</summary>
    Text,
}

/// <summary>Helpers for <see cref="FeatureModality"/>.</summary>
public static class FeatureModalities
{
    /// <summary>All modalities in their canonical order (image, location, text).</summary>
    public static IReadOnlyList<FeatureModality> All { get; } = [FeatureModality.Image, FeatureModality.Location, FeatureModality.Text];

    /// <summary>The conventional file name in a dataset folder: <c>image.npy</c>, <c>loc.npy</c> or <c>text.npy</c>.</summary>
    public static string FileName(this FeatureModality modality) => modality switch
    {
        FeatureModality.Image => "image.npy",
        FeatureModality.Location => "loc.npy",
        FeatureModality.Text => "text.npy",
        _ => throw new ArgumentOutOfRangeException(nameof(modality), modality, "Unknown modality."),
    };
}

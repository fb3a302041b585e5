using GeoToken.Reranking;

namespace GeoToken.Prediction;

/// <summary>One image to locate: its feature vectors (one per modality the model reads, image first) and, optionally, the photo.</summary>
public sealed record GeoQuery
{
    /// <summary>An identifier used in messages and results (e.g. the file name).</summary>
    public string? Id { get; init; }

    /// <summary>
    /// The feature vectors, one per modality the model reads, in <see cref="Data.FeatureModality"/> order
    /// (image, then location and text views), each of the model's feature dimension.
    /// </summary>
    public required IReadOnlyList<ReadOnlyMemory<float>> Features { get; init; }

    /// <summary>The photo itself, for rerankers that look at it (the MLLM judge); optional.</summary>
    public ImageInput? Image { get; init; }

    /// <summary>A query from image features alone (single-modality models).</summary>
    public static GeoQuery FromImageFeatures(ReadOnlyMemory<float> features, string? id = null) => new() { Id = id, Features = [features] };
}

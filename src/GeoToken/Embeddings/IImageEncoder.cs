using GeoToken.Imaging;

namespace GeoToken.Embeddings;

/// <summary>
/// Turns images into fixed-length embedding vectors (e.g. CLIP image features) that are compared by
/// cosine similarity. Implementations are thread-safe: several encodings may run at once.
/// </summary>
public interface IImageEncoder
{
    /// <summary>Length of every embedding this encoder produces.</summary>
    int Dimension { get; }

    /// <summary>Decodes and encodes the image files at <paramref name="paths"/>; rows follow the input order.</summary>
    /// <exception cref="ImageDecodeException">A file cannot be decoded; the message names it (the first failing file in input order).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<ImageEmbeddings> EncodeAsync(IReadOnlyList<string> paths, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Encodes already-decoded, upright images; rows follow the input order.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<ImageEmbeddings> EncodeAsync(IReadOnlyList<RgbImage> images, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Decodes and encodes one encoded image (JPEG, PNG, …) read from <paramref name="image"/>; <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="ImageDecodeException">The data cannot be decoded.</exception>
    Task<float[]> EncodeAsync(Stream image, string sourceName, CancellationToken cancellationToken = default);
}

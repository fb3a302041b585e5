namespace GeoToken.Embeddings;

/// <summary>Progress of an encoding run, reported after each batch.</summary>
/// <param name="Completed">Images encoded so far.</param>
/// <param name="Total">Images in the run.</param>
public readonly record struct EncodeProgress(int Completed, int Total);

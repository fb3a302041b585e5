namespace GeoToken.Photos;

/// <summary>Progress of a folder scan: files whose metadata has been read, out of the candidates found.</summary>
/// <param name="Scanned">Candidate files examined so far.</param>
/// <param name="Total">Candidate files found.</param>
public readonly record struct PhotoScanProgress(int Scanned, int Total);

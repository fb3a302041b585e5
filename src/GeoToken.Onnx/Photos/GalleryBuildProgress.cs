namespace GeoToken.Photos;

/// <summary>The stage of a gallery build.</summary>
public enum GalleryBuildStage
{
    /// <summary>Listing files and reading their GPS.</summary>
    Scanning,

    /// <summary>Hashing new and modified photos.</summary>
    Hashing,

    /// <summary>Decoding and encoding photos.</summary>
    Encoding,

    /// <summary>Writing the dataset, the manifest and the report.</summary>
    Writing,
}

/// <summary>Progress of a gallery build.</summary>
/// <param name="Stage">The current stage.</param>
/// <param name="Completed">Items of the stage done.</param>
/// <param name="Total">Items of the stage.</param>
public readonly record struct GalleryBuildProgress(GalleryBuildStage Stage, int Completed, int Total);

using GeoToken.Geometry;

namespace GeoToken.Retrieval;

/// <summary>One photo added to a <see cref="PgGallery"/> while it serves (<see cref="PgGallery.AddAsync"/>).</summary>
public sealed record PgGalleryRow
{
    /// <summary>The image id (unique in the gallery; a row whose id is already there is not added again).</summary>
    public required string ImageId { get; init; }

    /// <summary>Where the photo was taken.</summary>
    public required LatLng Location { get; init; }

    /// <summary>Its feature vectors, one per view of the gallery (<see cref="PgGalleryInfo.Views"/>, image first), each of the gallery's dimension.</summary>
    public required IReadOnlyList<ReadOnlyMemory<float>> Features { get; init; }

    /// <summary>The uploader (AUTHOR), if known.</summary>
    public string? Author { get; init; }

    /// <summary>The photo series (SERIES), if known.</summary>
    public string? Series { get; init; }
}

namespace GeoToken.Retrieval;

/// <summary>
/// What neighbor files were computed from, recorded in their sidecar <c>PREFIX.json</c> and checked when
/// they are used as precomputed neighbors (<see cref="NeighborFile.Open(string, NeighborFileProvenance)"/>).
/// </summary>
/// <param name="QueriesId">The query dataset's <see cref="Data.GeoDataset.ContentId"/>.</param>
/// <param name="GalleryId">The gallery dataset's <see cref="Data.GeoDataset.ContentId"/>; neighbor rows index this gallery.</param>
/// <param name="Settings">How the search was run where it changes the result (e.g. "exclude self", the group column), or null.</param>
public sealed record NeighborFileProvenance(string QueriesId, string GalleryId, string? Settings = null);

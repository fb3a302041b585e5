using GeoToken.Geometry;

namespace GeoToken.Reranking;

/// <summary>A retrieved gallery image: its row in the gallery, its similarity to the query and where it was taken.</summary>
/// <param name="Row">Row index in the gallery dataset.</param>
/// <param name="Similarity">Cosine similarity to the query (higher is more similar).</param>
/// <param name="Position">The gallery image's location.</param>
public sealed record Neighbor(long Row, double Similarity, LatLng Position);

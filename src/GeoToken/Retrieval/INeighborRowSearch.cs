using GeoToken.Data;
using GeoToken.Tokens;

namespace GeoToken.Retrieval;

/// <summary>
/// A search over a gallery held outside this process (e.g. a database table) that returns, with each neighbor, what a
/// pipeline reads of it: its coordinates, its GeoToken tokens and its feature views. A predictor over such a search needs
/// no local copy of the gallery, and rows added to the gallery while it serves are usable by the next query.
/// </summary>
public interface INeighborRowSearch : INeighborSearch
{
    /// <summary>The feature views the gallery stores, image first.</summary>
    IReadOnlyList<FeatureModality> Views { get; }

    /// <summary>The tokenizer whose tokens <see cref="NeighborRows.GetTokens"/> returns.</summary>
    GeoTokenizer Tokenizer { get; }

    /// <summary>
    /// As <see cref="INeighborSearch.SearchAsync"/>, with the neighbors' rows: coordinates, tokens and the first
    /// <paramref name="views"/> feature views in the canonical order (<see cref="FeatureModalities.All"/>: image, location, text).
    /// </summary>
    /// <exception cref="ArgumentException">The queries do not fit the gallery, or it lacks one of the views asked for.</exception>
    /// <exception cref="InvalidDataException">A returned row lacks a view's vector; the message names the row.</exception>
    ValueTask<NeighborRows> SearchRowsAsync(NeighborQueries queries, int views, CancellationToken cancellationToken = default);
}

using GeoToken.Geometry;

namespace GeoToken.Decoding;

/// <summary>A token sequence produced by a search, with the cell it names and its log-probability under the model.</summary>
/// <param name="Tokens">The full token sequence (face first).</param>
/// <param name="LogProbability">
/// The sum over positions of the model's log-probability of each token given the previous ones — the
/// untempered, unconstrained model distribution, whatever temperature, top-k/top-p or region the search used.
/// </param>
/// <param name="Cell">The S2 cell the tokens name (at the tokenizer's level).</param>
public sealed record DecodedSequence(IReadOnlyList<int> Tokens, double LogProbability, S2CellId Cell)
{
    /// <summary>The centre of <see cref="Cell"/>.</summary>
    public LatLng Position => Cell.ToLatLng();

    /// <summary>This sequence as a candidate from <paramref name="source"/> (position = cell centre, count 1).</summary>
    public GeoCandidate ToCandidate(CandidateSources source) => new()
    {
        Position = Position,
        Cell = Cell,
        Tokens = Tokens,
        LogProbability = LogProbability,
        Count = 1,
        Sources = source,
    };
}

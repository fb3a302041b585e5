
namespace GeoToken.Decoding;

/// <summary>How beam search ranks its finished beams (<see cref="BeamSearchOptions.Ranking"/>).</summary>
public enum BeamRanking
{
    /// <summary>By sequence log-probability: the most probable leaf cell first (the paper's beam search).</summary>
    Sequence,

    /// <summary>
    /// Coarse to fine: a token prefix's log-probability is the model's probability mass of that S2 cell, so beams are
    /// compared at the coarsest position where their prefix probabilities differ, and the beam inside the most probable
    /// cell wins. This prefers the cell holding the most mass over a single confident leaf elsewhere (the mode of the
    /// leaf distribution can sit in a cell of less mass); beams of one cell stay in sequence order.
    /// </summary>
    CoarseToFine,
}

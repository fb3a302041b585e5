
namespace GeoToken.Decoding;

/// <summary>How two-stage beam search chooses the cell it commits to (<see cref="BeamSearchOptions.CommitScore"/>).</summary>
/// <remarks>
/// A token prefix names an S2 cell and its log-probability is the model's whole probability mass of that cell, so
/// every prefix of a commit candidate is a coarser cell containing it, with a known mass.
/// </remarks>
public enum BeamCommitScore
{
    /// <summary>
    /// The sum of the masses of the candidate cell and of every coarser cell its token prefixes name (the face, then
    /// each token's level): the model's expected number of those cells that contain the true location. A cell of
    /// middling mass inside the region holding the most mass beats a slightly more probable cell elsewhere, so the
    /// choice stays good at continental as well as regional scale.
    /// </summary>
    HierarchyMass,

    /// <summary>The mass of the candidate cell alone: the most probable cell at the commit level.</summary>
    CellMass,
}

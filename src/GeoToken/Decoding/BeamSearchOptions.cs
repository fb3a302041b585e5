using System.Globalization;

namespace GeoToken.Decoding;

/// <summary>Settings of beam search (<see cref="TokenSearch.BeamSearch"/>, and the runtimes' searches over it).</summary>
/// <remarks>
/// Beams are ranked by their summed model log-probability (no length normalisation: all sequences have the
/// same length), or coarse to fine (see <see cref="BeamRanking.CoarseToFine"/>), optionally in two stages (see
/// <see cref="CommitLevel"/>). Each step keeps the <see cref="Width"/> best (beam, token) extensions over every live beam
/// and the position's whole vocabulary (6 faces, then 4^G children); at the first position there is a single
/// live beam, so fewer than <see cref="Width"/> beams exist while the vocabulary is smaller than the width.
/// </remarks>
public sealed record BeamSearchOptions
{
    /// <summary>Beams kept at each step (default 5).</summary>
    public int Width { get; init; } = 5;

    /// <summary>Beams returned per image, best first (default null: <see cref="Width"/>); at most <see cref="Width"/>.</summary>
    public int? ReturnCount { get; init; }

    /// <summary>How the finished beams are ranked (default <see cref="BeamRanking.Sequence"/>: by sequence log-probability).</summary>
    public BeamRanking Ranking { get; init; } = BeamRanking.Sequence;

    /// <summary>
    /// Two-stage search at this S2 level (default 6, cells about 150 km across; null: one stage, the paper's beam
    /// search). Beam search runs over the tokens of the first prefix whose cell is at least this fine, commits to one
    /// such cell chosen by its probability mass (see <see cref="CommitScore"/>; a prefix's log-probability is the
    /// model's whole probability mass of its cell) and beam-searches the rest of the sequence inside it, so the region
    /// is chosen by its mass rather than by its single most probable leaf (which may lie in a region of less mass).
    /// Every beam returned lies in the committed cell. The default was chosen on a SynthGeo validation split, where it
    /// beat greedy decoding and one-stage beam search from 25 km up (README, "Accuracy on SynthGeo");
    /// <c>geotoken eval</c> reports both beam searches, to check on your own validation data.
    /// No commit happens when no prefix before the last token is that fine.
    /// </summary>
    public int? CommitLevel { get; init; } = DefaultCommitLevel;

    /// <summary>The default <see cref="CommitLevel"/>: 6.</summary>
    public const int DefaultCommitLevel = 6;

    /// <summary>
    /// How the two-stage search chooses its cell among every extension of the live beams at the commit position
    /// (default <see cref="BeamCommitScore.HierarchyMass"/>, chosen on a SynthGeo validation split; see
    /// <see cref="BeamCommitScore"/>). Unused when <see cref="CommitLevel"/> is null.
    /// </summary>
    public BeamCommitScore CommitScore { get; init; } = BeamCommitScore.HierarchyMass;

    /// <summary>Decode only inside this region (default null: anywhere).</summary>
    public DecodingRegion? Region { get; init; }

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (Width < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.Width is {Width}; it must be at least 1."));
        if (!Enum.IsDefined(CommitScore)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.CommitScore is {(int)CommitScore}, not a BeamCommitScore."));
        if (!Enum.IsDefined(Ranking)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.Ranking is {(int)Ranking}, not a BeamRanking."));
        if (CommitLevel is int c && (c < 0 || c > 30)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.CommitLevel is {c}; it must be an S2 level (0..30) or null."));
        if (ReturnCount is int n && (n < 1 || n > Width)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.ReturnCount is {n}; it must be in 1..Width ({Width})."));
    }
}

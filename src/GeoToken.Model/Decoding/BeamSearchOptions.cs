using System.Globalization;

namespace GeoToken.Model.Decoding;

/// <summary>Settings of beam search (<see cref="GeoTokenSearch.BeamSearch"/>).</summary>
/// <remarks>
/// Beams are ranked by their summed model log-probability (no length normalisation: all sequences have the
/// same length), or coarse to fine (see <see cref="BeamRanking.CoarseToFine"/>). Each step keeps the <see cref="Width"/> best (beam, token) extensions over every live beam
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

    /// <summary>Decode only inside this region (default null: anywhere).</summary>
    public DecodingRegion? Region { get; init; }

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (Width < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.Width is {Width}; it must be at least 1."));
        if (!Enum.IsDefined(Ranking)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.Ranking is {(int)Ranking}, not a BeamRanking."));
        if (ReturnCount is int n && (n < 1 || n > Width)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"BeamSearchOptions.ReturnCount is {n}; it must be in 1..Width ({Width})."));
    }
}

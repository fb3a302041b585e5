using System.Globalization;

namespace GeoToken.Decoding;

/// <summary>
/// What goes into a candidate pool (<see cref="TokenSearch.BuildPools"/>, and the runtimes' pool builders over it). The defaults are the paper's pool:
/// the greedy sequence plus 30 samples at temperature 0.7, merged by cell.
/// </summary>
public sealed record CandidatePoolOptions
{
    /// <summary>Include the greedy sequence (default true).</summary>
    public bool Greedy { get; init; } = true;

    /// <summary>Samples per image (default 30); 0 for none.</summary>
    public int Samples { get; init; } = 30;

    /// <summary>Sampling temperature, ≥ 0 (default 0.7).</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Sampling top-k (default null: all tokens).</summary>
    public int? TopK { get; init; }

    /// <summary>Sampling top-p in (0, 1] (default null: all tokens).</summary>
    public double? TopP { get; init; }

    /// <summary>
    /// Beam width; the top <see cref="BeamCount"/> beams of a one-stage beam search (the paper's, whose beams may lie in
    /// different regions) join the pool (default 0: no beam search).
    /// </summary>
    public int BeamWidth { get; init; }

    /// <summary>Beams added to the pool (default null: all <see cref="BeamWidth"/>).</summary>
    public int? BeamCount { get; init; }

    /// <summary>The sampling seed (default 0); see <see cref="SamplingOptions.Seed"/>.</summary>
    public ulong Seed { get; init; }

    /// <summary>Decode only inside this region (default null: anywhere).</summary>
    public DecodingRegion? Region { get; init; }

    /// <summary>
    /// How the samples' log-probabilities are scored (default <see cref="SampleScore.Untempered"/>: like the greedy and
    /// beam candidates; <see cref="SampleScore.Tempered"/> is the reference's, see there).
    /// </summary>
    public SampleScore ScoreWith { get; init; } = SampleScore.Untempered;

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (Samples < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"CandidatePoolOptions.Samples is {Samples}; it must be ≥ 0."));
        if (BeamWidth < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"CandidatePoolOptions.BeamWidth is {BeamWidth}; it must be ≥ 0."));
        if (BeamCount is int n && (n < 1 || n > BeamWidth)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"CandidatePoolOptions.BeamCount is {n}; it must be in 1..BeamWidth ({BeamWidth})."));
        if (!Greedy && Samples == 0 && BeamWidth == 0) throw new ArgumentException("CandidatePoolOptions asks for no candidates: enable Greedy, Samples or BeamWidth.");
        SamplingSettings.Validate(Temperature, TopK, TopP, ScoreWith, "CandidatePoolOptions");
    }
}

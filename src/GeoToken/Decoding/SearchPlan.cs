using System.Globalization;

namespace GeoToken.Decoding;

/// <summary>
/// What one run of <see cref="TokenSearch.Run"/> decodes per image, all in one session: the greedy row, sample rows and
/// beam rows (a candidate pool is all three; the public searches each use one kind). Defaults: nothing.
/// </summary>
public sealed record SearchPlan
{
    /// <summary>Decode the greedy sequence (default false).</summary>
    public bool Greedy { get; init; }

    /// <summary>Samples per image (default 0).</summary>
    public int Samples { get; init; }

    /// <summary>Sampling temperature, ≥ 0 (default 1); see <see cref="SamplingOptions.Temperature"/>.</summary>
    public double Temperature { get; init; } = 1;

    /// <summary>Sampling top-k (default null: all tokens).</summary>
    public int? TopK { get; init; }

    /// <summary>Sampling top-p in (0, 1] (default null: all tokens).</summary>
    public double? TopP { get; init; }

    /// <summary>How samples are scored (default <see cref="SampleScore.Untempered"/>).</summary>
    public SampleScore ScoreWith { get; init; }

    /// <summary>The seed of the images' sampling streams (default 0); see <see cref="SamplingOptions.Seed"/>.</summary>
    public ulong Seed { get; init; }

    /// <summary>Beam width (default 0: no beam search).</summary>
    public int BeamWidth { get; init; }

    /// <summary>Beams returned per image (default null: <see cref="BeamWidth"/>); at most <see cref="BeamWidth"/>.</summary>
    public int? BeamReturn { get; init; }

    /// <summary>How finished beams are ranked (default <see cref="BeamRanking.Sequence"/>).</summary>
    public BeamRanking BeamRanking { get; init; }

    /// <summary>Two-stage beam search at this S2 level (default null: one stage); see <see cref="BeamSearchOptions.CommitLevel"/>.</summary>
    public int? BeamCommitLevel { get; init; }

    /// <summary>How the two-stage search chooses its cell (default <see cref="BeamCommitScore.HierarchyMass"/>).</summary>
    public BeamCommitScore BeamCommitScore { get; init; }

    /// <summary>Decode only inside this region (default null: anywhere).</summary>
    public DecodingRegion? Region { get; init; }

    /// <summary>The plan of a beam search with <paramref name="options"/>.</summary>
    public static SearchPlan ForBeams(BeamSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new SearchPlan
        {
            BeamWidth = options.Width,
            BeamReturn = options.ReturnCount,
            BeamRanking = options.Ranking,
            BeamCommitLevel = options.CommitLevel,
            BeamCommitScore = options.CommitScore,
            Region = options.Region,
        };
    }

    /// <summary>The plan of sampling with <paramref name="options"/>.</summary>
    public static SearchPlan ForSamples(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Sampling(options.Count, options.Temperature, options.TopK, options.TopP, options.ScoreWith, options.Seed, options.Region);
    }

    /// <summary>The plan of a candidate pool with <paramref name="options"/> (its beams: one-stage beam search).</summary>
    public static SearchPlan ForPool(CandidatePoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Sampling(options.Samples, options.Temperature, options.TopK, options.TopP, options.ScoreWith, options.Seed, options.Region) with
        {
            Greedy = options.Greedy,
            BeamWidth = options.BeamWidth,
            BeamReturn = options.BeamCount,
        };
    }

    private static SearchPlan Sampling(int count, double temperature, int? topK, double? topP, SampleScore scoreWith, ulong seed, DecodingRegion? region) => new()
    {
        Samples = count,
        Temperature = temperature,
        TopK = topK,
        TopP = topP,
        ScoreWith = scoreWith,
        Seed = seed,
        Region = region,
    };

    /// <summary>Throws unless the plan is usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (Samples < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SearchPlan.Samples is {Samples}; it must be ≥ 0."));
        if (BeamWidth < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SearchPlan.BeamWidth is {BeamWidth}; it must be ≥ 0."));
        if (BeamReturn is int n && (n < 1 || n > BeamWidth)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SearchPlan.BeamReturn is {n}; it must be in 1..BeamWidth ({BeamWidth})."));
        if (!Greedy && Samples == 0 && BeamWidth == 0) throw new ArgumentException("SearchPlan asks for nothing: enable Greedy, Samples or BeamWidth.");
        if (!Enum.IsDefined(BeamRanking)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SearchPlan.BeamRanking is {(int)BeamRanking}, not a BeamRanking."));
        if (!Enum.IsDefined(BeamCommitScore)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SearchPlan.BeamCommitScore is {(int)BeamCommitScore}, not a BeamCommitScore."));
        if (BeamCommitLevel is int c && (c < 0 || c > 30)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SearchPlan.BeamCommitLevel is {c}; it must be an S2 level (0..30) or null."));
        SamplingSettings.Validate(Temperature, TopK, TopP, ScoreWith, "SearchPlan");
    }
}

using System.Globalization;

namespace GeoToken.Decoding;

/// <summary>Settings of ancestral sampling (<see cref="TokenSearch.Sample"/>, and the runtimes' searches over it).</summary>
/// <remarks>
/// At each position the model's logits are restricted to the region's tokens, divided by
/// <see cref="Temperature"/> and turned into probabilities; then only the <see cref="TopK"/> most likely
/// tokens are kept, then the smallest most-likely set whose probability reaches <see cref="TopP"/>;
/// the rest is renormalised and one token drawn. Random numbers come from a generator of the library's
/// own (SplitMix64), one stream per image seeded from <see cref="Seed"/> and the image's key, so results
/// depend neither on torch's global generator nor on how images are batched.
/// </remarks>
public sealed record SamplingOptions
{
    /// <summary>Samples per image (default 30, the paper's pool).</summary>
    public int Count { get; init; } = 30;

    /// <summary>Softmax temperature, ≥ 0 (default 0.7, the paper's). 0 picks the most likely token (greedy).</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Keep only the k most likely tokens at each position (default null: all).</summary>
    public int? TopK { get; init; }

    /// <summary>Nucleus sampling: keep the smallest most-likely set with probability ≥ p, in (0, 1] (default null: all).</summary>
    public double? TopP { get; init; }

    /// <summary>The seed of the random streams (default 0). The same seed gives the same samples.</summary>
    public ulong Seed { get; init; }

    /// <summary>Decode only inside this region (default null: anywhere).</summary>
    public DecodingRegion? Region { get; init; }

    /// <summary>
    /// How a sample's log-probability is scored (default <see cref="SampleScore.Untempered"/>, GeoToken.NET's;
    /// <see cref="SampleScore.Tempered"/> is the reference implementation's).
    /// </summary>
    public SampleScore ScoreWith { get; init; } = SampleScore.Untempered;

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (Count < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"SamplingOptions.Count is {Count}; it must be at least 1."));
        SamplingSettings.Validate(Temperature, TopK, TopP, ScoreWith, "SamplingOptions");
    }
}

/// <summary>Shared checks of temperature, top-k and top-p.</summary>
internal static class SamplingSettings
{
    public static void Validate(double temperature, int? topK, double? topP, SampleScore scoreWith, string owner)
    {
        if (!Enum.IsDefined(scoreWith)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{owner}.ScoreWith is {(int)scoreWith}, not a SampleScore."));
        if (!(temperature >= 0) || double.IsInfinity(temperature)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{owner}.Temperature is {temperature}; it must be finite and ≥ 0."));
        if (topK is < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{owner}.TopK is {topK}; it must be at least 1 (or null for all tokens)."));
        if (topP is double p && !(p > 0 && p <= 1)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{owner}.TopP is {p}; it must be in (0, 1] (or null)."));
    }
}

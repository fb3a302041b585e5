namespace GeoToken.Tokens;

/// <summary>Settings of a <see cref="GeoTokenizer"/>.</summary>
public sealed record GeoTokenizerOptions
{
    /// <summary>The paper's setting: level 20, two levels per token (11 tokens).</summary>
    public static GeoTokenizerOptions Paper { get; } = new();

    /// <summary>The S2 level of the finest cell a sequence names, 1–30 (paper: 20, cells of about 10 m).</summary>
    public int Level { get; init; } = 20;

    /// <summary>How many S2 levels each token after the face covers, 1–8 (paper: 2, so 16-way tokens).</summary>
    public int GroupSize { get; init; } = 2;
}

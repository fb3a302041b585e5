namespace GeoToken.Model;

/// <summary>How the retrieved neighbors are laid out in the encoder's input sequence.</summary>
public enum ContextLayout
{
    /// <summary>
    /// The paper's layout: every neighbor contributes <c>M</c> projected feature positions followed by
    /// <c>T</c> token-embedding positions, so the encoder reads <c>1 + M + k·(M + T)</c> positions
    /// (214 with M = 3, k = 15, T = 11).
    /// </summary>
    Paper = 0,

    /// <summary>
    /// One position per neighbor: the sum of its <c>M</c> projected features plus the mean of its
    /// <c>T</c> token embeddings, so the encoder reads <c>1 + M + k</c> positions (19 with M = 3, k = 15).
    /// About 11× fewer positions than <see cref="Paper"/>, which is what makes CPU training practical.
    /// </summary>
    Compact = 1,
}

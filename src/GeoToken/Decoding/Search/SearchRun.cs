using GeoToken.Tokens;

namespace GeoToken.Decoding;

/// <summary>
/// The loop of one search run: expand the session to every image's rows, then per position one step, the greedy and
/// sample rows' choices (<see cref="ChosenTokenStep"/>), the beams' extensions (<see cref="BeamStep"/>) and the reorder
/// that follows the beams; finally the sequences (<see cref="SearchResults"/>).
/// </summary>
internal static class SearchRun
{
    public static ImageSearchResult[] Run(IDecoderSession session, GeoTokenizer tokenizer, SearchPlan plan, IReadOnlyList<long>? imageKeys, CancellationToken cancellationToken)
    {
        int images = session.Rows, t = tokenizer.Length;
        var vocab = tokenizer.VocabularySizes.ToArray();
        var rows = new SearchRows(images, t, plan, imageKeys);
        var mask = new RegionMask(plan.Region, tokenizer);
        var chosen = new ChosenTokenStep(plan, mask);
        var beams = new BeamStep(rows, mask, plan.BeamCommitLevel is int level ? CommitTokens(tokenizer, level) : null, plan.BeamCommitScore);
        var previous = new long[rows.Count];
        session.Expand(rows.PerImage);
        for (int p = 0; p < t; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int v = vocab[p];
            float[] scores = session.Step(p == 0 ? [] : previous);
            if (scores.Length != (long)rows.Count * v)
            {
                throw new InvalidOperationException($"The decoder session returned {scores.Length} scores at position {p}; expected {rows.Count} rows × {v} tokens.");
            }

            var allowed = new bool[v];
            var logProbabilities = new double[v];
            for (int i = 0; i < images; i++)
            {
                chosen.Apply(rows, i, p, scores, allowed, logProbabilities);
                beams.Apply(i, p, scores, allowed, logProbabilities);
            }

            if (p == t - 1) break;
            if (rows.BeamRows > 0) session.Reorder(rows.Parents);
            for (int r = 0; r < rows.Count; r++) previous[r] = rows.Tokens[r * t + p];
        }

        return SearchResults.Assemble(rows, plan, tokenizer);
    }

    /// <summary>The number of tokens of the first prefix (before the last token) whose cell is at least as fine as <paramref name="level"/>; null when none is.</summary>
    private static int? CommitTokens(GeoTokenizer tokenizer, int level)
    {
        for (int n = 1; n < tokenizer.Length; n++)
        {
            if (tokenizer.LevelOfPrefix(n) >= level) return n;
        }

        return null;
    }
}

using GeoToken.Tokens;

namespace GeoToken.Decoding;

/// <summary>Turns a finished run's rows into each image's sequences: greedy, samples in order, live beams ranked.</summary>
internal static class SearchResults
{
    public static ImageSearchResult[] Assemble(SearchRows rows, SearchPlan plan, GeoTokenizer tokenizer)
    {
        int t = rows.Length;
        var results = new ImageSearchResult[rows.Images];
        for (int i = 0; i < rows.Images; i++)
        {
            int first = rows.FirstRow(i), beamBase = rows.BeamBase(i);
            DecodedSequence Make(int r)
            {
                var seq = rows.Tokens.AsSpan(r * t, t).ToArray();
                return new DecodedSequence(seq, rows.LogProbability[r], tokenizer.Decode(seq));
            }

            var greedy = rows.GreedyRows == 1 ? Make(first) : null;
            var samples = Enumerable.Range(first + rows.GreedyRows, rows.SampleRows).Select(Make).ToArray();
            var live = Enumerable.Range(beamBase, rows.BeamRows).Where(r => !double.IsNegativeInfinity(rows.LogProbability[r]));
            if (plan.BeamRanking == BeamRanking.CoarseToFine)
            {
                live = live.Order(Comparer<int>.Create((x, y) => CompareCoarseToFine(rows.PrefixLogProbability, x, y, t)));
            }

            var beams = live.Take(plan.BeamReturn ?? plan.BeamWidth).Select(Make).ToArray();
            results[i] = new ImageSearchResult(greedy, samples, beams);
        }

        return results;
    }

    // Higher prefix log-probability first at the first position where two beams' prefixes differ in it (the
    // coarsest cell that tells them apart); equal histories keep the sequence order (stable sort).
    private static int CompareCoarseToFine(double[] prefixLogp, int x, int y, int t)
    {
        for (int p = 0; p < t; p++)
        {
            int c = prefixLogp[y * t + p].CompareTo(prefixLogp[x * t + p]);
            if (c != 0) return c;
        }

        return 0;
    }
}

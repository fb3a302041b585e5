namespace GeoToken.Decoding;

/// <summary>
/// One position of beam search for one image: the best (beam, token) extensions over all live beams become the new
/// beams. In a two-stage search, the step that completes the commit cell keeps only the extension chosen by
/// <see cref="SearchPlan.BeamCommitScore"/>; every later beam lies in its cell.
/// </summary>
internal sealed class BeamStep
{
    private readonly SearchRows _rows;
    private readonly RegionMask _mask;
    private readonly int? _commitTokens;
    private readonly BeamCommitScore _commitScore;
    private readonly int[] _tokens;
    private readonly double[] _logProbability;
    private readonly double[] _prefix;
    private readonly ulong[] _cells;
    private readonly bool[] _inside;
    private readonly List<(double Score, int Beam, int Token)> _candidates = [];

    /// <param name="rows">The run's rows.</param>
    /// <param name="mask">The region.</param>
    /// <param name="commitTokens">The number of tokens after which a two-stage search commits (null: one stage).</param>
    /// <param name="commitScore">How it chooses.</param>
    public BeamStep(SearchRows rows, RegionMask mask, int? commitTokens, BeamCommitScore commitScore)
    {
        _rows = rows;
        _mask = mask;
        _commitTokens = commitTokens;
        _commitScore = commitScore;
        int w = rows.BeamRows, t = rows.Length;
        _tokens = new int[w * t];
        _logProbability = new double[w];
        _prefix = new double[w * t];
        _cells = new ulong[w];
        _inside = new bool[w];
    }

    /// <summary>Extends image <paramref name="image"/>'s beams by position <paramref name="position"/>.</summary>
    /// <param name="image">The image.</param>
    /// <param name="position">The position decoded.</param>
    /// <param name="scores">The step's scores, row-major <c>[rows, V]</c>.</param>
    /// <param name="allowed">Scratch of length V.</param>
    /// <param name="logProbabilities">Scratch of length V.</param>
    /// <exception cref="InvalidOperationException">No beam can continue inside the region.</exception>
    public void Apply(int image, int position, float[] scores, bool[] allowed, double[] logProbabilities)
    {
        var rows = _rows;
        int w = rows.BeamRows, t = rows.Length, v = allowed.Length, p = position;
        if (w == 0) return;
        int beamBase = rows.BeamBase(image);
        var candidates = _candidates;
        candidates.Clear();
        for (int b = 0; b < w; b++)
        {
            int r = beamBase + b;
            if (double.IsNegativeInfinity(rows.LogProbability[r])) continue;
            var row = scores.AsSpan(r * v, v);
            _mask.Allowed(rows.Cells[r], rows.Inside[r], p, allowed);
            LogSoftmax.Compute(row, logProbabilities, 1);
            for (int k = 0; k < v; k++)
            {
                if (allowed[k]) candidates.Add((rows.LogProbability[r] + logProbabilities[k], b, k));
            }
        }

        if (candidates.Count == 0) throw new InvalidOperationException($"No beam of image {image} can continue at position {p} (the region excludes every continuation).");
        candidates.Sort((a, c) => a.Score != c.Score ? c.Score.CompareTo(a.Score) : a.Beam != c.Beam ? a.Beam.CompareTo(c.Beam) : a.Token.CompareTo(c.Token));
        bool commit = _commitTokens == p + 1;
        if (commit && _commitScore == BeamCommitScore.HierarchyMass)
        {
            // Only the first row survives the commit: put the extension whose cell and coarser cells hold the most mass there.
            int best = BestByHierarchyMass(beamBase, p);
            (candidates[0], candidates[best]) = (candidates[best], candidates[0]);
        }

        for (int b = 0; b < w; b++)
        {
            if (b < candidates.Count)
            {
                var (score, parent, token) = candidates[b];
                int pr = beamBase + parent;
                Array.Copy(rows.Tokens, pr * t, _tokens, b * t, p);
                _tokens[b * t + p] = token;
                Array.Copy(rows.PrefixLogProbability, pr * t, _prefix, b * t, p);
                _prefix[b * t + p] = score;
                _logProbability[b] = score;
                (_cells[b], _inside[b]) = _mask.Advance(rows.Cells[pr], rows.Inside[pr], p, token);
                rows.Parents[beamBase + b] = pr;
            }
            else
            {
                // Not enough extensions yet (e.g. width > 6 at the face): the row stays dead.
                _tokens[b * t + p] = 0;
                _logProbability[b] = double.NegativeInfinity;
                rows.Parents[beamBase + b] = beamBase + candidates[0].Beam;
            }
        }

        // Two-stage search: after the commit cell's last token only the chosen prefix lives on.
        if (commit)
        {
            for (int b = 1; b < w; b++) _logProbability[b] = double.NegativeInfinity;
        }

        for (int b = 0; b < w; b++)
        {
            int r = beamBase + b;
            Array.Copy(_tokens, b * t, rows.Tokens, r * t, p + 1);
            Array.Copy(_prefix, b * t, rows.PrefixLogProbability, r * t, p + 1);
            rows.LogProbability[r] = _logProbability[b];
            rows.Cells[r] = _cells[b];
            rows.Inside[r] = _inside[b];
        }
    }

    /// <summary>
    /// The index among the candidates (sorted best first) of the extension whose cell and coarser prefix cells hold the
    /// most probability mass in sum; the first such on ties.
    /// </summary>
    private int BestByHierarchyMass(int beamBase, int position)
    {
        int t = _rows.Length, best = 0;
        double bestMass = double.NegativeInfinity;
        for (int c = 0; c < _candidates.Count; c++)
        {
            var (score, beam, _) = _candidates[c];
            int offset = (beamBase + beam) * t;
            double mass = Math.Exp(score);
            for (int q = 0; q < position; q++) mass += Math.Exp(_rows.PrefixLogProbability[offset + q]);
            if (mass > bestMass)
            {
                bestMass = mass;
                best = c;
            }
        }

        return best;
    }
}

namespace GeoToken.Decoding;

/// <summary>
/// One position of the rows that choose their own token: the greedy row (the most likely allowed token) and the sample
/// rows (a draw from the image's stream, <see cref="TokenSampler"/>). Each row continues itself.
/// </summary>
internal sealed class ChosenTokenStep(SearchPlan plan, RegionMask mask)
{
    private readonly TokenSampler _sampler = new(plan.Temperature, plan.TopK, plan.TopP);

    // Samples are scored under the untempered distribution unless the plan asks for the tempered one.
    private readonly double _sampleScale = plan.ScoreWith == SampleScore.Tempered && plan.Temperature > 0 ? 1 / plan.Temperature : 1;

    /// <summary>Chooses position <paramref name="position"/>'s token for image <paramref name="image"/>'s greedy and sample rows.</summary>
    /// <param name="rows">The run's rows (updated).</param>
    /// <param name="image">The image.</param>
    /// <param name="position">The position decoded.</param>
    /// <param name="scores">The step's scores, row-major <c>[rows, V]</c>.</param>
    /// <param name="allowed">Scratch of length V.</param>
    /// <param name="logProbabilities">Scratch of length V.</param>
    public void Apply(SearchRows rows, int image, int position, float[] scores, bool[] allowed, double[] logProbabilities)
    {
        int t = rows.Length, v = allowed.Length, first = rows.FirstRow(image);
        for (int r = first; r < first + rows.GreedyRows + rows.SampleRows; r++)
        {
            var row = scores.AsSpan(r * v, v);
            mask.Allowed(rows.Cells[r], rows.Inside[r], position, allowed);
            bool greedyRow = r < first + rows.GreedyRows;
            LogSoftmax.Compute(row, logProbabilities, greedyRow ? 1 : _sampleScale);
            int token = greedyRow ? TokenSampler.ArgMax(row, allowed) : _sampler.Choose(row, allowed, ref rows.Streams[image]);
            rows.Tokens[r * t + position] = token;
            rows.LogProbability[r] += logProbabilities[token];
            (rows.Cells[r], rows.Inside[r]) = mask.Advance(rows.Cells[r], rows.Inside[r], position, token);
            rows.Parents[r] = r;
        }
    }
}

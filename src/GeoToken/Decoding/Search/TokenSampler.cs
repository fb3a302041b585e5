using GeoToken.Randomness;

namespace GeoToken.Decoding;

/// <summary>
/// Draws one token from a row of logits restricted to the allowed tokens: temperature, then top-k, then top-p,
/// then inverse-CDF sampling with one uniform number from the caller's generator. Deterministic: ties are
/// broken by token index.
/// </summary>
internal sealed class TokenSampler(double temperature, int? topK, double? topP)
{
    private int[] _order = [];
    private double[] _weights = [];

    /// <summary>The allowed token with the largest logit (the lowest index among equals).</summary>
    /// <exception cref="InvalidOperationException">No token is allowed.</exception>
    public static int ArgMax(ReadOnlySpan<float> logits, bool[] allowed)
    {
        int best = -1;
        for (int k = 0; k < logits.Length; k++)
        {
            if (allowed[k] && (best < 0 || logits[k] > logits[best])) best = k;
        }

        return best >= 0 ? best : throw new InvalidOperationException("No token is allowed at this position (the region excludes every continuation).");
    }

    /// <summary>Draws a token (always consumes exactly one random number, except at temperature 0, which is greedy).</summary>
    public int Choose(ReadOnlySpan<float> logits, bool[] allowed, ref SplitMix64 rng)
    {
        if (temperature == 0) return ArgMax(logits, allowed);
        int n = logits.Length;
        if (_order.Length < n)
        {
            _order = new int[n];
            _weights = new double[n];
        }

        // Unnormalised tempered probabilities of the allowed tokens.
        int count = 0;
        double max = double.NegativeInfinity;
        for (int k = 0; k < n; k++)
        {
            if (allowed[k]) max = Math.Max(max, logits[k] / temperature);
        }

        for (int k = 0; k < n; k++)
        {
            _weights[k] = allowed[k] ? Math.Exp(logits[k] / temperature - max) : 0;
            if (allowed[k]) _order[count++] = k;
        }

        if (count == 0) throw new InvalidOperationException("No token is allowed at this position (the region excludes every continuation).");
        double u = rng.NextDouble();
        var order = _order.AsSpan(0, count);
        if (topK is int kk && kk < count || topP is double p && p < 1)
        {
            // Most likely first; ties by index.
            var w = _weights;
            order.Sort((a, b) => w[a] != w[b] ? w[b].CompareTo(w[a]) : a.CompareTo(b));
            if (topK is int k2 && k2 < count) order = order[..k2];
            if (topP is double p2 && p2 < 1)
            {
                double total = 0;
                foreach (int k in order) total += w[k];
                double cumulative = 0;
                int keep = 0;
                while (keep < order.Length)
                {
                    cumulative += w[order[keep++]];
                    if (cumulative >= p2 * total) break;
                }

                order = order[..keep];
            }
        }

        double sum = 0;
        foreach (int k in order) sum += _weights[k];
        double target = u * sum, acc = 0;
        foreach (int k in order)
        {
            acc += _weights[k];
            if (target < acc) return k;
        }

        return order[^1]; // rounding: u·sum at the very top
    }
}

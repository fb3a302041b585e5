using GeoToken.Decoding;
using GeoToken.Model.Training;
using GeoToken.Randomness;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

/// <summary>
/// Reference computations by full (non-cached) re-decoding of every prefix, for checking the searches, and the
/// assertions that compare a search with them up to float rounding.
/// </summary>
/// <remarks>
/// The search decodes on the KV cache, batched over rows, and libtorch picks its kernels by CPU
/// (<c>ATEN_CPU_CAPABILITY</c>), so the same sequence's logits differ between code paths in the last bits.
/// Tests therefore compare scores with <see cref="ScoreTolerance"/> and allow two paths to choose differently
/// only where the competing scores are within it (a near-tie), asserting that this is the case.
/// </remarks>
internal static class SearchTestSupport
{
    /// <summary>
    /// How far one sequence's log-probability may differ between two code paths. Cached and full decoding agree
    /// within 1e-5 per logit (<see cref="DecoderCacheTests"/> asserts it), a log-softmax entry moves at most twice
    /// the largest logit change, and a score sums at most six entries: 6 × 2 × 1e-5 = 1.2e-4, rounded up.
    /// </summary>
    public const double ScoreTolerance = 2e-4;

    /// <summary>A micro model in evaluation mode, seeded.</summary>
    public static GeoTokenModel NewModel(long seed, GeoTokenModelOptions? options = null)
    {
        random.manual_seed(seed);
        var model = new GeoTokenModel(options ?? TestData.Micro(dropout: 0));
        model.eval();
        return model;
    }

    /// <summary>
    /// Micro model options with a three-token sequence (level 4, two levels per token: 6 faces, 96 level-2 prefixes,
    /// 1,536 sequences), small enough to enumerate exhaustively.
    /// </summary>
    public static GeoTokenModelOptions ShortSequence() => TestData.Micro(dropout: 0) with { Tokenizer = new GeoTokenizerOptions { Level = 4, GroupSize = 2 } };

    /// <summary>Log-probabilities of every position's vocabulary given <paramref name="prefix"/> for image <paramref name="image"/>: full decoding of the prefix.</summary>
    public static double[] NextLogProbabilities(GeoTokenModel model, Tensor memory, int image, IReadOnlyList<int> prefix)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var mem = memory.narrow(0, image, 1);
        var pre = tensor(prefix.Select(x => (long)x).ToArray(), [1, prefix.Count]);
        var logits = model.Decode(mem, pre)[prefix.Count];
        return logits.log_softmax(-1).to_type(ScalarType.Float64).data<double>().ToArray();
    }

    /// <summary>Summed model log-probability of a full sequence (or a prefix) by full decoding.</summary>
    public static double SequenceLogProbability(GeoTokenModel model, Tensor memory, int image, IReadOnlyList<int> tokens)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int t = tokens.Count;
        var mem = memory.narrow(0, image, 1);
        var pre = tensor(tokens.Take(t - 1).Select(x => (long)x).ToArray(), [1, t - 1]);
        var logits = model.Decode(mem, pre);
        double sum = 0;
        for (int p = 0; p < t; p++) sum += logits[p].log_softmax(-1)[0, tokens[p]].to_type(ScalarType.Float64).item<double>();
        return sum;
    }

    /// <summary>
    /// Beam search by full re-decoding of every beam's prefix at every step, best first; with width
    /// <see cref="int.MaxValue"/> it enumerates every sequence.
    /// </summary>
    /// <remarks>
    /// A finite width cuts the candidates at every step. Where the last kept and the first dropped candidate of a
    /// step before the last are within <see cref="ScoreTolerance"/>, float rounding decides which one survives and
    /// every later step depends on it, so no search can be compared with this one: that throws (choose another seed).
    /// Near-ties at the last step only swap returned beams, which <see cref="AssertBeamsMatch"/> allows.
    /// </remarks>
    /// <param name="length">Tokens per sequence (default: the model's whole sequence).</param>
    /// <param name="start">The one beam to start from and its log-probability (default: the empty prefix).</param>
    public static List<(int[] Tokens, double Score)> ReferenceBeams(GeoTokenModel model, Tensor memory, int image, int width, int? length = null, (int[] Tokens, double Score)? start = null)
    {
        var beams = new List<(int[] Tokens, double Score)> { start ?? ([], 0) };
        int last = (length ?? model.Options.SequenceLength) - 1;
        for (int p = beams[0].Tokens.Length; p <= last; p++)
        {
            var next = new List<(int[] Tokens, double Score)>();
            foreach (var (prefix, score) in beams)
            {
                var lp = NextLogProbabilities(model, memory, image, prefix);
                for (int k = 0; k < lp.Length; k++) next.Add(([.. prefix, k], score + lp[k]));
            }

            next.Sort((a, b) => b.Score.CompareTo(a.Score));
            if (p < last && next.Count > width && next[width - 1].Score - next[width].Score <= ScoreTolerance)
            {
                throw new InvalidOperationException(
                    $"Test fixture: image {image} has a near-tie at the width-{width} cut of position {p} ({Key(next[width - 1].Tokens)}: {next[width - 1].Score}, {Key(next[width].Tokens)}: {next[width].Score}); "
                    + "float rounding decides which survives, so the search is not determined. Choose another seed.");
            }

            beams = next.Take(width).ToList();
        }

        return beams;
    }

    /// <summary>
    /// The index of the largest of <paramref name="values"/>, asserting that it beats every other by more than
    /// <paramref name="tolerance"/> (a test fixture whose choice float rounding cannot change).
    /// </summary>
    public static int ClearArgMax(IReadOnlyList<double> values, double tolerance, string what)
    {
        int best = 0;
        for (int k = 1; k < values.Count; k++)
        {
            if (values[k] > values[best]) best = k;
        }

        for (int k = 0; k < values.Count; k++)
        {
            if (k != best && values[best] - values[k] <= tolerance)
            {
                throw new InvalidOperationException($"Test fixture: {what} has a near-tie ({values[best]} and {values[k]}); float rounding decides it. Choose another seed.");
            }
        }

        return best;
    }

    /// <summary>Asserts that <paramref name="sequence"/>'s reported score is the model's own (full decoding), within <see cref="ScoreTolerance"/>.</summary>
    public static void AssertScore(GeoTokenModel model, Tensor memory, int image, DecodedSequence sequence)
    {
        double expected = SequenceLogProbability(model, memory, image, sequence.Tokens);
        Assert.True(Math.Abs(expected - sequence.LogProbability) <= ScoreTolerance, $"image {image}, {Key(sequence)}: reported log-probability {sequence.LogProbability}, the model's {expected}");
    }

    /// <summary>
    /// Asserts that <paramref name="sequence"/> is greedy: at every position its token is the most probable given
    /// its own prefix (full decoding), or within <paramref name="tieTolerance"/> of it; and that its score is the model's.
    /// </summary>
    public static void AssertGreedy(GeoTokenModel model, Tensor memory, int image, DecodedSequence sequence, double tieTolerance = ScoreTolerance)
    {
        for (int p = 0; p < sequence.Tokens.Count; p++)
        {
            var lp = NextLogProbabilities(model, memory, image, sequence.Tokens.Take(p).ToArray());
            int token = sequence.Tokens[p], best = Array.IndexOf(lp, lp.Max());
            Assert.True(lp[token] >= lp[best] - tieTolerance, $"image {image}, {Key(sequence)}: position {p} chose token {token} (log-probability {lp[token]}) over token {best} ({lp[best]})");
        }

        AssertScore(model, memory, image, sequence);
    }

    /// <summary>
    /// Asserts that two greedy decodings of the same image along different code paths agree, except after a
    /// position where they choose tokens whose log-probabilities (full decoding, same prefix) are within
    /// <see cref="ScoreTolerance"/>.
    /// </summary>
    public static void AssertSameUpToNearTie(GeoTokenModel model, Tensor memory, int image, DecodedSequence a, DecodedSequence b)
    {
        int p = Enumerable.Range(0, a.Tokens.Count).FirstOrDefault(q => a.Tokens[q] != b.Tokens[q], -1);
        if (p < 0)
        {
            Assert.True(Math.Abs(a.LogProbability - b.LogProbability) <= ScoreTolerance, $"image {image}: the same tokens scored {a.LogProbability} and {b.LogProbability}");
            return;
        }

        var lp = NextLogProbabilities(model, memory, image, a.Tokens.Take(p).ToArray());
        Assert.True(Math.Abs(lp[a.Tokens[p]] - lp[b.Tokens[p]]) <= ScoreTolerance,
            $"image {image}: {Key(a)} and {Key(b)} part at position {p}, where their tokens' log-probabilities {lp[a.Tokens[p]]} and {lp[b.Tokens[p]]} are not a near-tie");
    }

    /// <summary>
    /// Asserts that a search's beams are the reference's (best first) up to float rounding: as many; distinct;
    /// each scored with the model's own log-probability of its tokens; and rank by rank scored like the
    /// reference's beam within <see cref="ScoreTolerance"/>. So a beam may differ from the reference's only where
    /// their scores are a near-tie (which either side's rounding may order either way), and the order of beams
    /// whose scores are within the tolerance is not asserted.
    /// </summary>
    public static void AssertBeamsMatch(GeoTokenModel model, Tensor memory, int image, IReadOnlyList<(int[] Tokens, double Score)> expected, IReadOnlyList<DecodedSequence> beams)
    {
        Assert.Equal(expected.Count, beams.Count);
        Assert.Equal(beams.Count, beams.Select(Key).Distinct().Count());
        for (int b = 0; b < beams.Count; b++)
        {
            AssertScore(model, memory, image, beams[b]);
            Assert.True(Math.Abs(expected[b].Score - beams[b].LogProbability) <= ScoreTolerance,
                $"image {image}, rank {b}: beam {Key(beams[b])} scores {beams[b].LogProbability}, the reference's {Key(expected[b].Tokens)} {expected[b].Score}");
        }
    }

    /// <summary>
    /// Replays the sampler's random stream and asserts that every token of <paramref name="samples"/> (drawn by
    /// <see cref="GeoTokenSearch.Sample"/> without top-k, top-p or region) is the inverse-CDF draw of its uniform
    /// number from the tempered model distribution given the sample's prefix (full decoding), up to rounding.
    /// </summary>
    /// <remarks>
    /// The stream is the image's (<c>SplitMix64(Mix(seed, key))</c>), one number per sample per position, samples in
    /// order within a position; the interval of token k is [Σ_{j&lt;k} q_j, Σ_{j≤k} q_j) with q the tempered probabilities
    /// in token order. Rounding moves these boundaries by at most <c>ScoreTolerance / temperature</c> (a relative
    /// change of every tempered weight), so a draw that close to a boundary may go either way: it must be one of the
    /// two tokens, and the sample is reported as fragile.
    /// </remarks>
    /// <returns>Per sample, whether one of its draws fell that close to a boundary (another code path may then draw differently).</returns>
    public static bool[] AssertSampled(GeoTokenModel model, Tensor memory, int image, IReadOnlyList<DecodedSequence> samples, double temperature, ulong seed, long key)
    {
        double tolerance = ScoreTolerance / temperature;
        var rng = new SplitMix64(SplitMix64.Mix(seed, unchecked((ulong)key)));
        var fragile = new bool[samples.Count];
        for (int p = 0; p < model.Options.SequenceLength; p++)
        {
            for (int j = 0; j < samples.Count; j++)
            {
                double u = rng.NextDouble();
                var tokens = samples[j].Tokens;
                var lp = NextLogProbabilities(model, memory, image, tokens.Take(p).ToArray());
                double max = lp.Max();
                var q = lp.Select(x => Math.Exp((x - max) / temperature)).ToArray();
                double z = q.Sum(), low = 0;
                for (int k = 0; k < tokens[p]; k++) low += q[k] / z;
                double high = low + q[tokens[p]] / z;
                Assert.True(u >= low - tolerance && u <= high + tolerance,
                    $"image {image}, sample {j} ({Key(tokens)}), position {p}: uniform {u} lies outside token {tokens[p]}'s interval [{low}, {high})");
                if ((tokens[p] > 0 && u - low <= tolerance) || (tokens[p] < q.Length - 1 && high - u <= tolerance)) fragile[j] = true;
            }
        }

        foreach (var s in samples) AssertScore(model, memory, image, s);
        return fragile;
    }

    public static Tensor Memory(GeoTokenModel model, GeoTokenBatch batch)
    {
        using var noGrad = no_grad();
        return model.Encode(batch);
    }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string Key(IReadOnlyList<int> tokens) => string.Join(",", tokens);

    public static string Key(DecodedSequence s) => Key(s.Tokens);
}

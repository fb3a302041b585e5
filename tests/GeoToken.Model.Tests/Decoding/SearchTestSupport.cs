using GeoToken.Tokens;
using GeoToken.Model.Decoding;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

/// <summary>Reference computations by full (non-cached) re-decoding of every prefix, for checking the searches.</summary>
internal static class SearchTestSupport
{
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

    /// <summary>Summed model log-probability of a full sequence by full decoding.</summary>
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

    /// <summary>Greedy decoding by full re-decoding of every prefix.</summary>
    public static (int[] Tokens, double LogProbability) ReferenceGreedy(GeoTokenModel model, Tensor memory, int image)
    {
        var tokens = new List<int>();
        double sum = 0;
        for (int p = 0; p < model.Options.SequenceLength; p++)
        {
            var lp = NextLogProbabilities(model, memory, image, tokens);
            int best = 0;
            for (int k = 1; k < lp.Length; k++)
            {
                if (lp[k] > lp[best]) best = k;
            }

            tokens.Add(best);
            sum += lp[best];
        }

        return (tokens.ToArray(), sum);
    }

    /// <summary>
    /// Beam search by full re-decoding of every beam's prefix at every step, best first; with width
    /// <see cref="int.MaxValue"/> it enumerates every sequence.
    /// </summary>
    /// <param name="length">Tokens per sequence (default: the model's whole sequence).</param>
    /// <param name="start">The one beam to start from and its log-probability (default: the empty prefix).</param>
    public static List<(int[] Tokens, double Score)> ReferenceBeams(GeoTokenModel model, Tensor memory, int image, int width, int? length = null, (int[] Tokens, double Score)? start = null)
    {
        var beams = new List<(int[] Tokens, double Score)> { start ?? ([], 0) };
        for (int p = beams[0].Tokens.Length; p < (length ?? model.Options.SequenceLength); p++)
        {
            var next = new List<(int[] Tokens, double Score)>();
            foreach (var (prefix, score) in beams)
            {
                var lp = NextLogProbabilities(model, memory, image, prefix);
                for (int k = 0; k < lp.Length; k++) next.Add(([.. prefix, k], score + lp[k]));
            }

            beams = next.OrderByDescending(b => b.Score).Take(width).ToList();
        }

        return beams;
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

using GeoToken.Decoding;
using static GeoToken.Model.Tests.Decoding.SearchTestSupport;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

/// <summary><see cref="SampleScore"/>: samples scored under the untempered (ours) or the tempered (reference) distribution.</summary>
public class SampleScoreTests
{
    /// <summary>Summed <c>log_softmax(logits / T)</c> of a full sequence by full decoding (the reference sampler's score).</summary>
    private static double TemperedLogProbability(GeoTokenModel model, Tensor memory, int image, IReadOnlyList<int> tokens, double temperature)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int t = tokens.Count;
        var pre = tensor(tokens.Take(t - 1).Select(x => (long)x).ToArray(), [1, t - 1]);
        var logits = model.Decode(memory.narrow(0, image, 1), pre);
        double sum = 0;
        for (int p = 0; p < t; p++)
        {
            sum += logits[p].to_type(ScalarType.Float64).div(temperature).log_softmax(-1)[0, tokens[p]].item<double>();
        }

        return sum;
    }

    [Fact]
    public void Tempered_scores_are_the_reference_samplers_and_the_draws_do_not_change()
    {
        using var model = NewModel(61);
        using var batch = TestData.Batch(model.Options, 2, seed: 17);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        const double temperature = 0.5;
        var plain = new SamplingOptions { Count = 8, Temperature = temperature, Seed = 5 };
        Assert.Equal(SampleScore.Untempered, plain.ScoreWith);
        var untempered = search.Sample(batch, plain, null, Ct);
        var tempered = search.Sample(batch, plain with { ScoreWith = SampleScore.Tempered }, null, Ct);
        bool anyDiffers = false;
        for (int i = 0; i < 2; i++)
        {
            // Scoring does not touch the random stream: the same tokens are drawn.
            Assert.Equal(untempered[i].Select(Key), tempered[i].Select(Key));
            for (int j = 0; j < tempered[i].Count; j++)
            {
                var s = tempered[i][j];
                AssertScore(model, memory, i, untempered[i][j]);

                // A tempered score sums T entries of log_softmax(z / T); each moves at most 2/T times the largest logit
                // change between code paths, so the untempered tolerance scales by 1/T.
                double expected = TemperedLogProbability(model, memory, i, s.Tokens, temperature);
                Assert.True(Math.Abs(expected - s.LogProbability) <= ScoreTolerance / temperature,
                    $"image {i}, {Key(s)}: reported {s.LogProbability}, tempered oracle {expected}");
                anyDiffers |= Math.Abs(s.LogProbability - untempered[i][j].LogProbability) > 10 * ScoreTolerance / temperature;
            }
        }

        Assert.True(anyDiffers, "at T = 0.5 some tempered score should differ from the untempered one");
    }

    [Fact]
    public void A_tempered_pool_scores_its_samples_tempered_and_its_greedy_candidate_untempered()
    {
        using var model = NewModel(62);
        using var batch = TestData.Batch(model.Options, 2, seed: 18);
        using var memory = Memory(model, batch);
        var options = new CandidatePoolOptions { Samples = 6, Temperature = 0.7, ScoreWith = SampleScore.Tempered };
        var pools = new CandidatePoolBuilder(model, options).Build(batch, null, Ct);
        var search = new GeoTokenSearch(model);
        for (int i = 0; i < 2; i++)
        {
            foreach (var c in pools[i])
            {
                var tokens = c.Tokens!;
                double untempered = SequenceLogProbability(model, memory, i, tokens);
                double tempered = TemperedLogProbability(model, memory, i, tokens, 0.7);
                bool greedy = c.Sources.HasFlag(CandidateSources.Greedy), sampled = c.Sources.HasFlag(CandidateSources.Sample);

                // A merged cell keeps the highest of its scores.
                double expected = greedy && sampled ? Math.Max(untempered, tempered) : greedy ? untempered : tempered;
                Assert.True(Math.Abs(expected - c.LogProbability) <= ScoreTolerance / 0.7, $"image {i}, {c.Sources}: reported {c.LogProbability}, expected {expected}");
            }
        }

        Assert.Throws<ArgumentException>(() => new CandidatePoolBuilder(model, options with { ScoreWith = (SampleScore)7 }));
    }
}

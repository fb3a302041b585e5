using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Onnx.Export.Tests.Support;
using GeoToken.Onnx.Inference;
using GeoToken.Randomness;

namespace GeoToken.Onnx.Export.Tests.Inference;

/// <summary>
/// The searches on ONNX Runtime (<see cref="OnnxGeoTokenSearch"/>) against the same searches on TorchSharp
/// (<see cref="GeoTokenSearch"/>): both run one algorithm (<see cref="TokenSearch"/>), so they may part only where the
/// two runtimes' float rounding decides a near-tie, which each test asserts where they part.
/// </summary>
public class OnnxGeoTokenSearchTests
{
    /// <summary>
    /// How far one sequence's log-probability may differ between the runtimes: the step outputs agree within 1.5e-6 per
    /// log-probability on every exported shape (issue 15; <see cref="OnnxGeoTokenModelTests"/> asserts 1e-4), a sequence
    /// sums at most 11 of them (≈ 2e-5), and 1e-4 leaves room for other CPUs' kernels.
    /// </summary>
    private const double ScoreTolerance = 1e-4;

    /// <summary>Two competing scores may be ordered differently by the runtimes only when within twice <see cref="ScoreTolerance"/> (each side moves by up to it).</summary>
    private const double TieTolerance = 2 * ScoreTolerance;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Shapes => new() { "tiny", "paper-shaped", "post-paper-copy" };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Beam_searches_match_TorchSharp_beam_for_beam_up_to_near_ties(string shape)
    {
        using var exported = ExportFixtures.Export(shape, seed: 31);
        var (model, _, onnx) = exported;
        const int b = 8;
        using var batch = ExportFixtures.Batch(model.Options, b, seed: 32);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);
        var search = new OnnxGeoTokenSearch(onnx);
        foreach (var options in new[] { new BeamSearchOptions { Width = 5 }, new BeamSearchOptions { Width = 5, CommitLevel = null } })
        {
            using var state = onnx.Encode(query, neighbors, neighborTokens, b, Ct);
            var ours = search.BeamSearch(state, options, Ct);
            var theirs = new GeoTokenSearch(model).BeamSearch(batch, options, Ct);
            int identical = 0;
            for (int i = 0; i < b; i++)
            {
                Assert.Equal(theirs[i].Count, ours[i].Count);
                bool same = true;
                for (int r = 0; r < ours[i].Count; r++)
                {
                    var (t, o) = (theirs[i][r], ours[i][r]);
                    if (t.Tokens.SequenceEqual(o.Tokens))
                    {
                        Assert.True(Math.Abs(t.LogProbability - o.LogProbability) <= ScoreTolerance, $"{shape}, commit {options.CommitLevel}, image {i}, rank {r}: the same beam scores {t.LogProbability} on TorchSharp, {o.LogProbability} on ONNX");
                        continue;
                    }

                    // A different beam at this rank: the two competing beams' scores must be a near-tie.
                    same = false;
                    Assert.True(Math.Abs(t.LogProbability - o.LogProbability) <= TieTolerance,
                        $"{shape}, commit {options.CommitLevel}, image {i}, rank {r}: TorchSharp's beam {Key(t)} ({t.LogProbability}) and ONNX's {Key(o)} ({o.LogProbability}) are not a near-tie");
                    Assert.True(Math.Abs(TorchScore(model, batch, i, o.Tokens) - o.LogProbability) <= ScoreTolerance, $"{shape}, image {i}: ONNX's beam {Key(o)} is not scored as TorchSharp scores it");
                }

                if (same) identical++;
            }

            Assert.True(identical >= b / 2, $"{shape}, commit {options.CommitLevel}: only {identical} of {b} images have identical beams; random models are rarely this tied.");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_31_candidate_pool_matches_TorchSharp_sequence_for_sequence_up_to_draws_on_a_boundary(string shape)
    {
        using var exported = ExportFixtures.Export(shape, seed: 41);
        var (model, _, onnx) = exported;
        const int b = 6;
        using var batch = ExportFixtures.Batch(model.Options, b, seed: 42);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);
        var options = new CandidatePoolOptions { Seed = 5 };
        long[] keys = [100, 101, 102, 103, 104, 105];
        var plan = SearchPlan.ForPool(options);
        using var state = onnx.Encode(query, neighbors, neighborTokens, b, Ct);
        var ours = new OnnxGeoTokenSearch(onnx).Run(state, plan, keys, Ct);
        var theirs = new GeoTokenSearch(model).Run(batch, plan, keys, Ct);
        var torchPools = new CandidatePoolBuilder(model, options).Build(batch, keys, Ct);
        int identicalPools = 0;
        for (int i = 0; i < b; i++)
        {
            bool same = AssertSameSequence(model, batch, i, theirs[i].Greedy!, ours[i].Greedy!, null);
            Assert.Equal(30, ours[i].Samples.Count);
            for (int j = 0; j < 30; j++)
            {
                same &= AssertSameSequence(model, batch, i, theirs[i].Samples[j], ours[i].Samples[j], (options, keys[i], j));
            }

            var pool = ours[i].ToPool();
            Assert.Equal(31, pool.Sum(c => c.Count));
            if (!same) continue;
            identicalPools++;
            Assert.Equal(torchPools[i].Select(c => (c.Cell, c.Count, c.Sources)), pool.Select(c => (c.Cell, c.Count, c.Sources)));
            Assert.All(pool.Zip(torchPools[i]), x => Assert.True(Math.Abs(x.First.LogProbability - x.Second.LogProbability) <= ScoreTolerance));
        }

        Assert.True(identicalPools >= b / 2, $"{shape}: only {identicalPools} of {b} pools are identical; draws are rarely this close to a boundary.");
    }

    [Fact]
    public void The_search_takes_only_a_fresh_state_of_its_model_and_a_session_state_is_not_stepped_by_hand()
    {
        using var exported = ExportFixtures.Export("post-compact", seed: 1);
        var onnx = exported.Onnx;
        using var batch = ExportFixtures.Batch(exported.Options, 2, seed: 2);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);
        var search = new OnnxGeoTokenSearch(onnx);
        using (var used = onnx.Encode(query, neighbors, neighborTokens, 2, Ct))
        {
            onnx.Step(used, []);
            var e = Assert.Throws<InvalidOperationException>(() => search.Greedy(used, cancellationToken: Ct));
            Assert.Contains("fresh decoding state", e.Message, StringComparison.Ordinal);
        }

        using (var session = onnx.Encode(query, neighbors, neighborTokens, 2, Ct))
        {
            ((IDecoderSession)session).Expand(3);
            Assert.Equal(6, ((IDecoderSession)session).Rows);
            Assert.Throws<InvalidOperationException>(() => onnx.Step(session, []));
            Assert.Equal(6 * 6, ((IDecoderSession)session).Step([]).Length); // 6 rows × the 6 faces
            Assert.Equal(6, session.Rows);
        }
    }

    /// <summary>
    /// Asserts that ONNX's sequence is TorchSharp's with its log-probability within <see cref="ScoreTolerance"/>, or that
    /// they part at a position where rounding may decide: for greedy a near-tie of the two tokens' log-probabilities;
    /// for a sample a uniform number within rounding of the boundary of ONNX's token's interval under TorchSharp's
    /// tempered distribution (the number replayed from the image's stream: one per sample per position, samples in order).
    /// </summary>
    /// <returns>Whether the sequences are identical.</returns>
    private static bool AssertSameSequence(GeoTokenModel model, GeoTokenBatch batch, int image, DecodedSequence theirs, DecodedSequence ours, (CandidatePoolOptions Options, long Key, int Index)? sample)
    {
        int p = Enumerable.Range(0, theirs.Tokens.Count).FirstOrDefault(q => theirs.Tokens[q] != ours.Tokens[q], -1);
        if (p < 0)
        {
            Assert.True(Math.Abs(theirs.LogProbability - ours.LogProbability) <= ScoreTolerance, $"image {image}: {Key(theirs)} scores {theirs.LogProbability} on TorchSharp, {ours.LogProbability} on ONNX");
            return true;
        }

        var lp = OnnxGeoTokenModelTests.TorchLogProbabilities(model, batch, image, theirs.Tokens.Take(p).Select(x => (long)x).ToArray());
        int a = theirs.Tokens[p], o = ours.Tokens[p];
        if (sample is not { } s)
        {
            Assert.True(Math.Abs(lp[a] - lp[o]) <= TieTolerance, $"image {image}: greedy parts at position {p} where tokens {a} ({lp[a]}) and {o} ({lp[o]}) are not a near-tie");
            return false;
        }

        // The draw: the stream of (seed, key) gives one number per sample per position, samples in order.
        var rng = new SplitMix64(SplitMix64.Mix(s.Options.Seed, unchecked((ulong)s.Key)));
        double u = 0;
        for (int n = 0; n <= p * s.Options.Samples + s.Index; n++) u = rng.NextDouble();
        double temperature = s.Options.Temperature, max = lp.Max();
        var q = lp.Select(x => Math.Exp((x - max) / temperature)).ToArray();
        double z = q.Sum(), low = q.Take(o).Sum() / z, high = low + q[o] / z;

        // A log-probability moved by ScoreTolerance moves a tempered probability by a relative ScoreTolerance / T, and
        // a cumulative boundary by at most twice that.
        double tolerance = 2 * TieTolerance / temperature;
        Assert.True(u >= low - tolerance && u <= high + tolerance && (u < low + tolerance || u > high - tolerance),
            $"image {image}, sample {s.Index}: parts at position {p} (TorchSharp {a}, ONNX {o}) with uniform {u} not within {tolerance} of ONNX's token's interval boundary [{low}, {high})");
        return false;
    }

    private static double TorchScore(GeoTokenModel model, GeoTokenBatch batch, int image, IReadOnlyList<int> tokens) =>
        Enumerable.Range(0, tokens.Count).Sum(p => (double)OnnxGeoTokenModelTests.TorchLogProbabilities(model, batch, image, tokens.Take(p).Select(x => (long)x).ToArray())[tokens[p]]);

    private static string Key(DecodedSequence s) => string.Join(",", s.Tokens);
}

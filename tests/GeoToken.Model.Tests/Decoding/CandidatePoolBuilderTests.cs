using GeoToken.Decoding;
using static GeoToken.Model.Tests.Decoding.SearchTestSupport;

namespace GeoToken.Model.Tests.Decoding;

/// <remarks>
/// The builder decodes greedy, sample and beam rows together in one run, so its floats differ in the last bits
/// from the public searches' (other rows, other kernels). The tests therefore check the builder's pool against
/// the sequences of that same run (<see cref="GeoTokenSearch.Run"/>, repeated: the same floats), and those
/// sequences against the model and against the public searches up to rounding.
/// </remarks>
public class CandidatePoolBuilderTests
{
    [Fact]
    public void The_default_pool_is_greedy_plus_thirty_samples_merged_by_cell()
    {
        using var model = NewModel(51);
        using var batch = TestData.Batch(model.Options, 3, seed: 31);
        using var memory = Memory(model, batch);
        var builder = new CandidatePoolBuilder(model);
        var o = builder.Options;
        Assert.True(o.Greedy);
        Assert.Equal(30, o.Samples);
        Assert.Equal(0.7, o.Temperature);
        Assert.Equal(0, o.BeamWidth);

        var pools = builder.Build(batch, null, Ct);
        var search = new GeoTokenSearch(model);
        var decoded = search.Run(batch, new SearchPlan { Greedy = true, Samples = 30, Temperature = 0.7, Seed = o.Seed }, null, Ct);
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var samples = search.Sample(batch, new SamplingOptions { Count = 30, Temperature = 0.7, Seed = o.Seed }, null, Ct);
        Assert.Equal(3, pools.Count);
        for (int i = 0; i < 3; i++)
        {
            var pool = pools[i];
            var run = decoded[i];
            Assert.Equal(31, pool.Sum(c => c.Count));
            Assert.Equal(pool.Count, pool.Select(c => c.Cell).Distinct().Count());
            AssertSameSequences(model, memory, i, (greedy[i], samples[i], []), run, o.Temperature, o.Seed, i);

            // The greedy candidate comes first, flagged greedy (and sample too when a sample hit its cell).
            Assert.Equal(run.Greedy!.Cell, pool[0].Cell);
            Assert.True(pool[0].Sources.HasFlag(CandidateSources.Greedy));

            // Counts are the number of generated sequences naming each cell; each keeps its best sequence.
            var generated = new[] { run.Greedy! }.Concat(run.Samples).GroupBy(s => s.Cell).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(generated.Count, pool.Count);
            foreach (var c in pool)
            {
                Assert.Equal(generated[c.Cell].Count, c.Count);
                Assert.Equal(generated[c.Cell].Max(s => s.LogProbability), c.LogProbability);
                Assert.Equal(c.Cell.ToLatLng(), c.Position);
                Assert.Equal(model.Tokenizer.Level, c.Cell.Level);
                Assert.Equal(model.Tokenizer.Decode(c.Tokens!.ToArray()), c.Cell);
                Assert.True(Math.Abs(SequenceLogProbability(model, memory, i, c.Tokens!) - c.LogProbability) <= ScoreTolerance);
                bool sampled = run.Samples.Any(s => s.Cell == c.Cell);
                Assert.Equal(sampled, c.Sources.HasFlag(CandidateSources.Sample));
            }
        }
    }

    [Fact]
    public void Beams_join_the_pool_when_asked_and_batches_equal_single_images_with_keys()
    {
        using var model = NewModel(52);
        using var batch = TestData.Batch(model.Options, 3, seed: 32);
        using var memory = Memory(model, batch);
        var options = new CandidatePoolOptions { Samples = 8, Temperature = 1.0, BeamWidth = 4, BeamCount = 3, Seed = 9 };
        var plan = new SearchPlan { Greedy = true, Samples = 8, Temperature = 1.0, BeamWidth = 4, BeamReturn = 3, Seed = 9 };
        var builder = new CandidatePoolBuilder(model, options);
        var search = new GeoTokenSearch(model);
        var keys = new long[] { 7, 8, 9 };
        var pools = builder.Build(batch, keys, Ct);
        var decoded = search.Run(batch, plan, keys, Ct);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1 + 8 + 3, pools[i].Sum(c => c.Count));
            AssertPoolOf(decoded[i], pools[i]);
            Assert.All(decoded[i].Beams, b => Assert.Contains(pools[i], c => c.Cell == b.Cell && c.Sources.HasFlag(CandidateSources.Beam)));
            AssertBeamsMatch(model, memory, i, ReferenceBeams(model, memory, i, 4).Take(3).ToList(), decoded[i].Beams);

            // The image alone with its key: the same sequences up to rounding (a batch of one rounds differently).
            using var single = GeoTokenSearchTests.Slice(batch, i);
            var alone = search.Run(single, plan, [keys[i]], Ct)[0];
            AssertPoolOf(alone, builder.Build(single, [keys[i]], Ct)[0]);
            AssertSameSequences(model, memory, i, (alone.Greedy!, alone.Samples, alone.Beams), decoded[i], options.Temperature, options.Seed, keys[i]);
        }

        Assert.Throws<ArgumentException>(() => new CandidatePoolBuilder(model, new CandidatePoolOptions { Greedy = false, Samples = 0 }));
        Assert.Throws<ArgumentException>(() => new CandidatePoolBuilder(model, new CandidatePoolOptions { BeamWidth = 2, BeamCount = 3 }));
    }

    /// <summary>Asserts that <paramref name="pool"/> is the run's greedy, samples and beams merged by cell, in that order.</summary>
    private static void AssertPoolOf(ImageSearchResult run, IReadOnlyList<GeoCandidate> pool)
    {
        var expected = CandidatePool.Merge(new[] { run.Greedy!.ToCandidate(CandidateSources.Greedy) }
            .Concat(run.Samples.Select(s => s.ToCandidate(CandidateSources.Sample)))
            .Concat(run.Beams.Select(b => b.ToCandidate(CandidateSources.Beam))));
        Assert.Equal(expected.Select(c => (c.Cell, c.Count, c.Sources, c.LogProbability)), pool.Select(c => (c.Cell, c.Count, c.Sources, c.LogProbability)));
    }

    /// <summary>
    /// Asserts that the run's sequences are what another code path decoded, up to rounding: greedy up to a near-tie,
    /// every sample the draw of the image's stream (the same as the other path's unless a draw lay within rounding of a
    /// boundary), and the beams scored like the other path's rank by rank.
    /// </summary>
    private static void AssertSameSequences(GeoTokenModel model, TorchSharp.torch.Tensor memory, int image, (DecodedSequence Greedy, IReadOnlyList<DecodedSequence> Samples, IReadOnlyList<DecodedSequence> Beams) other, ImageSearchResult run, double temperature, ulong seed, long key)
    {
        AssertGreedy(model, memory, image, run.Greedy!);
        AssertSameUpToNearTie(model, memory, image, other.Greedy, run.Greedy!);
        var fragile = AssertSampled(model, memory, image, run.Samples, temperature, seed, key);
        var otherFragile = AssertSampled(model, memory, image, other.Samples, temperature, seed, key);
        for (int j = 0; j < fragile.Length; j++)
        {
            if (!fragile[j] && !otherFragile[j]) Assert.Equal(Key(other.Samples[j]), Key(run.Samples[j]));
        }

        AssertBeamsMatch(model, memory, image, other.Beams.Select(b => (b.Tokens.ToArray(), b.LogProbability)).ToList(), run.Beams);
    }
}

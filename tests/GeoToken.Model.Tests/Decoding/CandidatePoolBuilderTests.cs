using GeoToken.Decoding;
using GeoToken.Model.Decoding;
using static GeoToken.Model.Tests.Decoding.SearchTestSupport;

namespace GeoToken.Model.Tests.Decoding;

public class CandidatePoolBuilderTests
{
    [Fact]
    public void The_default_pool_is_greedy_plus_thirty_samples_merged_by_cell()
    {
        using var model = NewModel(51);
        using var batch = TestData.Batch(model.Options, 3, seed: 31);
        using var memory = Memory(model, batch);
        var builder = new CandidatePoolBuilder(model);
        Assert.True(builder.Options.Greedy);
        Assert.Equal(30, builder.Options.Samples);
        Assert.Equal(0.7, builder.Options.Temperature);
        Assert.Equal(0, builder.Options.BeamWidth);

        var pools = builder.Build(batch, null, Ct);
        var search = new GeoTokenSearch(model);
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var samples = search.Sample(batch, new SamplingOptions { Count = 30, Temperature = 0.7, Seed = 0 }, null, Ct);
        Assert.Equal(3, pools.Count);
        for (int i = 0; i < 3; i++)
        {
            var pool = pools[i];
            Assert.Equal(31, pool.Sum(c => c.Count));
            Assert.Equal(pool.Count, pool.Select(c => c.Cell).Distinct().Count());

            // The greedy candidate comes first, flagged greedy (and sample too when a sample hit its cell).
            Assert.Equal(greedy[i].Cell, pool[0].Cell);
            Assert.True(pool[0].Sources.HasFlag(CandidateSources.Greedy));

            // Counts are the number of generated sequences naming each cell.
            var expected = new[] { greedy[i] }.Concat(samples[i]).GroupBy(s => s.Cell).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(expected.Count, pool.Count);
            foreach (var c in pool)
            {
                Assert.Equal(expected[c.Cell], c.Count);
                Assert.Equal(c.Cell.ToLatLng(), c.Position);
                Assert.Equal(model.Tokenizer.Level, c.Cell.Level);
                Assert.Equal(model.Tokenizer.Decode(c.Tokens!.ToArray()), c.Cell);
                Assert.Equal(SequenceLogProbability(model, memory, i, c.Tokens!), c.LogProbability, 4);
                bool sampled = samples[i].Any(s => s.Cell == c.Cell);
                Assert.Equal(sampled, c.Sources.HasFlag(CandidateSources.Sample));
            }
        }
    }

    [Fact]
    public void Beams_join_the_pool_when_asked_and_batches_equal_single_images_with_keys()
    {
        using var model = NewModel(52);
        using var batch = TestData.Batch(model.Options, 3, seed: 32);
        var options = new CandidatePoolOptions { Samples = 8, Temperature = 1.0, BeamWidth = 4, BeamCount = 3, Seed = 9 };
        var builder = new CandidatePoolBuilder(model, options);
        var keys = new long[] { 7, 8, 9 };
        var pools = builder.Build(batch, keys, Ct);
        var beams = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 4, ReturnCount = 3 }, Ct);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1 + 8 + 3, pools[i].Sum(c => c.Count));
            foreach (var b in beams[i]) Assert.Contains(pools[i], c => c.Cell == b.Cell && c.Sources.HasFlag(CandidateSources.Beam));
            using var single = GeoTokenSearchTests.Slice(batch, i);
            var alone = builder.Build(single, [keys[i]], Ct)[0];
            Assert.Equal(pools[i].Select(c => (c.Cell, c.Count, c.Sources)), alone.Select(c => (c.Cell, c.Count, c.Sources)));
        }

        Assert.Throws<ArgumentException>(() => new CandidatePoolBuilder(model, new CandidatePoolOptions { Greedy = false, Samples = 0 }));
        Assert.Throws<ArgumentException>(() => new CandidatePoolBuilder(model, new CandidatePoolOptions { BeamWidth = 2, BeamCount = 3 }));
    }
}

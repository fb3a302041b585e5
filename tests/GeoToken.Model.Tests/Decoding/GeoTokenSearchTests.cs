using GeoToken.Model.Decoding;
using GeoToken.Tokens;
using static GeoToken.Model.Tests.Decoding.SearchTestSupport;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

public class GeoTokenSearchTests
{
    [Theory]
    [InlineData(ContextLayout.Compact)]
    [InlineData(ContextLayout.Paper)]
    public void Greedy_equals_argmax_of_full_redecoding(ContextLayout layout)
    {
        using var model = NewModel(21, TestData.Micro(layout: layout, dropout: 0));
        using var batch = TestData.Batch(model.Options, 3, seed: 2);
        using var memory = Memory(model, batch);
        var greedy = new GeoTokenSearch(model).Greedy(batch, cancellationToken: Ct);
        Assert.Equal(3, greedy.Count);
        for (int i = 0; i < 3; i++)
        {
            var (tokens, logp) = ReferenceGreedy(model, memory, i);
            Assert.Equal(tokens, greedy[i].Tokens);
            Assert.Equal(logp, greedy[i].LogProbability, 4);
            Assert.Equal(model.Tokenizer.Decode(tokens), greedy[i].Cell);
            Assert.Equal(model.Tokenizer.Level, greedy[i].Cell.Level);
        }
    }

    [Fact]
    public void Beam_width_one_equals_greedy()
    {
        using var model = NewModel(22);
        using var batch = TestData.Batch(model.Options, 4, seed: 3);
        var search = new GeoTokenSearch(model);
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var beams = search.BeamSearch(batch, new BeamSearchOptions { Width = 1 }, Ct);
        for (int i = 0; i < 4; i++)
        {
            Assert.Single(beams[i]);
            Assert.Equal(greedy[i].Tokens, beams[i][0].Tokens);
            Assert.Equal(greedy[i].LogProbability, beams[i][0].LogProbability, 4);
        }
    }

    [Fact]
    public void Beams_are_sorted_distinct_scored_by_the_model_and_the_best_is_at_least_greedy()
    {
        using var model = NewModel(23);
        using var batch = TestData.Batch(model.Options, 3, seed: 4);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var beams = search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 5 }, Ct);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(5, beams[i].Count);
            Assert.Equal(5, beams[i].Select(Key).Distinct().Count());
            for (int b = 1; b < 5; b++) Assert.True(beams[i][b - 1].LogProbability >= beams[i][b].LogProbability);
            Assert.True(beams[i][0].LogProbability >= greedy[i].LogProbability - 1e-9);
            foreach (var beam in beams[i]) Assert.Equal(SequenceLogProbability(model, memory, i, beam.Tokens), beam.LogProbability, 4);
        }
    }

    [Fact]
    public void Coarse_to_fine_ranking_reorders_the_same_beams_by_the_mass_of_the_coarsest_differing_cell()
    {
        using var model = NewModel(25);
        using var batch = TestData.Batch(model.Options, 4, seed: 6);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var bySequence = search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 6 }, Ct);
        var coarse = search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 6, Ranking = BeamRanking.CoarseToFine }, Ct);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(bySequence[i].Select(Key).Order(), coarse[i].Select(Key).Order());
            for (int b = 1; b < coarse[i].Count; b++)
            {
                // At the first position where the two beams differ, the earlier beam's prefix (its cell) is at least as probable.
                var (x, y) = (coarse[i][b - 1].Tokens, coarse[i][b].Tokens);
                int p = Enumerable.Range(0, x.Count).First(q => x[q] != y[q]);
                double px = SequenceLogProbability(model, memory, i, x.Take(p + 1).ToArray());
                double py = SequenceLogProbability(model, memory, i, y.Take(p + 1).ToArray());
                Assert.True(px >= py - 1e-5, $"image {i}, beams {b - 1} and {b} differ first at position {p}: prefix log-probabilities {px} < {py}");
            }
        }
    }

    [Fact]
    public void Beam_search_matches_a_naive_beam_search_that_redecodes_every_prefix()
    {
        using var model = NewModel(24, TestData.Micro(NormOrder.Pre, ContextLayout.Paper, dropout: 0));
        using var batch = TestData.Batch(model.Options, 2, seed: 5);
        using var memory = Memory(model, batch);
        var beams = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 4 }, Ct);
        for (int i = 0; i < 2; i++)
        {
            var reference = ReferenceBeams(model, memory, i, 4);
            Assert.Equal(reference.Select(r => Key(r.Tokens)), beams[i].Select(Key));
            for (int b = 0; b < 4; b++) Assert.Equal(reference[b].Score, beams[i][b].LogProbability, 4);
        }
    }

    [Fact]
    public void A_beam_as_wide_as_the_last_positions_prefixes_finds_the_exact_best_sequences()
    {
        // L = 4, G = 2: 6 × 16 × 16 = 1,536 sequences, few enough to score them all. Width 96 keeps every
        // two-token prefix, so the search is exhaustive; width 5 need not be.
        var options = ShortSequence();
        using var model = NewModel(25, options);
        using var batch = TestData.Batch(options, 1, seed: 6);
        using var memory = Memory(model, batch);
        var best = ReferenceBeams(model, memory, 0, int.MaxValue).Take(10).ToList(); // every sequence, best first
        var beams = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 96, ReturnCount = 10 }, Ct)[0];
        Assert.Equal(best.Select(b => Key(b.Tokens)), beams.Select(Key));
        var narrow = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 5 }, Ct)[0];
        Assert.True(narrow[0].LogProbability <= best[0].Score + 1e-6);
    }

    [Fact]
    public void Two_stage_search_commits_to_the_most_probable_cell_and_returns_the_best_sequences_inside_it()
    {
        // L = 4, G = 2: 96 two-token prefixes (level-2 cells); width 96 keeps them all, so the commit is exact.
        var options = ShortSequence();
        using var model = NewModel(28, options);
        using var batch = TestData.Batch(options, 1, seed: 9);
        using var memory = Memory(model, batch);
        var cell = ReferenceBeams(model, memory, 0, int.MaxValue, length: 2)[0]; // the most probable of all 96 prefixes
        var inside = ReferenceBeams(model, memory, 0, int.MaxValue, start: cell).Take(10).ToList();
        var beams = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { Width = 96, ReturnCount = 10, CommitLevel = 2, CommitScore = BeamCommitScore.CellMass }, Ct)[0];
        Assert.Equal(inside.Select(x => Key(x.Tokens)), beams.Select(Key));
        for (int i = 0; i < 10; i++) Assert.Equal(inside[i].Score, beams[i].LogProbability, 4);

        // The one-stage search's best leaf need not lie in the committed cell; the two-stage one's always does.
        var oneStage = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { Width = 96, ReturnCount = 1, CommitLevel = null }, Ct)[0][0];
        Assert.True(oneStage.LogProbability >= beams[0].LogProbability - 1e-9);
    }

    [Fact]
    public void Hierarchy_mass_commits_to_the_cell_whose_face_and_own_mass_sum_highest()
    {
        // L = 4, G = 2: a level-2 cell's score is its face's mass plus its own; width 96 sees every prefix, so the commit is exact.
        var options = ShortSequence();
        using var model = NewModel(28, options);
        using (no_grad())
        {
            // Peaked child distributions, so that the most probable level-2 cell often lies outside the most probable face.
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (name.StartsWith("heads.1.", StringComparison.Ordinal)) parameter.mul_(8);
            }
        }

        const int images = 8;
        using var batch = TestData.Batch(options, images, seed: 9);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var byHierarchy = search.BeamSearch(batch, new BeamSearchOptions { Width = 96, ReturnCount = 5, CommitLevel = 2 }, Ct);
        var byCell = search.BeamSearch(batch, new BeamSearchOptions { Width = 96, ReturnCount = 5, CommitLevel = 2, CommitScore = BeamCommitScore.CellMass }, Ct);
        int differ = 0;
        for (int i = 0; i < images; i++)
        {
            var faceMass = ReferenceBeams(model, memory, i, int.MaxValue, length: 1).ToDictionary(f => f.Tokens[0], f => Math.Exp(f.Score));
            var cell = ReferenceBeams(model, memory, i, int.MaxValue, length: 2).MaxBy(c => faceMass[c.Tokens[0]] + Math.Exp(c.Score));
            var inside = ReferenceBeams(model, memory, i, 5, start: cell);
            Assert.Equal(inside.Select(x => Key(x.Tokens)), byHierarchy[i].Select(Key));
            for (int b = 0; b < 5; b++) Assert.Equal(inside[b].Score, byHierarchy[i][b].LogProbability, 4);
            if (Key(byHierarchy[i][0].Tokens.Take(2).ToArray()) != Key(byCell[i][0].Tokens.Take(2).ToArray())) differ++;
        }

        // The two scores disagree on some images (else this test would not tell them apart).
        Assert.InRange(differ, 1, images);
    }

    [Fact]
    public void After_the_commit_the_search_is_a_beam_search_inside_the_committed_cell()
    {
        using var model = NewModel(29);
        using var batch = TestData.Batch(model.Options, 3, seed: 10);
        var search = new GeoTokenSearch(model);
        int level = model.Tokenizer.LevelOfPrefix(2);
        var twoStage = search.BeamSearch(batch, new BeamSearchOptions { Width = 4, CommitLevel = level }, Ct);
        for (int i = 0; i < 3; i++)
        {
            var cell = twoStage[i][0].Cell.Parent(level);
            Assert.All(twoStage[i], b => Assert.Equal(cell, b.Cell.Parent(level)));
            using var single = Slice(batch, i);
            var inCell = search.BeamSearch(single, new BeamSearchOptions { Width = 4, CommitLevel = null, Region = DecodingRegion.FromCells([cell]) }, Ct)[0];
            Assert.Equal(inCell.Select(Key), twoStage[i].Select(Key));
            Assert.Equal(inCell.Select(b => Math.Round(b.LogProbability, 4)), twoStage[i].Select(b => Math.Round(b.LogProbability, 4)));
        }

        // A level no prefix before the leaf reaches means no commit: the one-stage search.
        var beyond = search.BeamSearch(batch, new BeamSearchOptions { Width = 4, CommitLevel = 30 }, Ct);
        var plain = search.BeamSearch(batch, new BeamSearchOptions { Width = 4, CommitLevel = null }, Ct);
        Assert.Equal(plain.SelectMany(b => b).Select(Key), beyond.SelectMany(b => b).Select(Key));
        Assert.Throws<ArgumentException>(() => search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = -1 }, Ct));
        var e = Assert.Throws<ArgumentException>(() => search.BeamSearch(batch, new BeamSearchOptions { CommitScore = (BeamCommitScore)7 }, Ct));
        Assert.Contains("CommitScore is 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Beams_wider_than_the_face_vocabulary_start_from_the_six_faces()
    {
        using var model = NewModel(26);
        using var batch = TestData.Batch(model.Options, 2, seed: 7);
        var beams = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 8 }, Ct);
        foreach (var perImage in beams)
        {
            Assert.Equal(8, perImage.Count);
            Assert.Equal(8, perImage.Select(Key).Distinct().Count());
            Assert.All(perImage, b => Assert.True(double.IsFinite(b.LogProbability)));
        }
    }

    [Fact]
    public void Sampling_at_temperature_near_zero_or_with_top_k_one_equals_greedy()
    {
        using var model = NewModel(27);
        using var batch = TestData.Batch(model.Options, 3, seed: 8);
        var search = new GeoTokenSearch(model);
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        foreach (var options in new[]
        {
            new SamplingOptions { Count = 4, Temperature = 0 },
            new SamplingOptions { Count = 4, Temperature = 1e-4, Seed = 3 },
            new SamplingOptions { Count = 4, Temperature = 1.5, TopK = 1, Seed = 4 },
            new SamplingOptions { Count = 4, Temperature = 1.0, TopP = 1e-9, Seed = 5 },
        })
        {
            var samples = search.Sample(batch, options, null, Ct);
            for (int i = 0; i < 3; i++)
            {
                Assert.All(samples[i], s => Assert.Equal(greedy[i].Tokens, s.Tokens));
                Assert.All(samples[i], s => Assert.Equal(greedy[i].LogProbability, s.LogProbability, 4));
            }
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_samples_and_another_seed_different_ones()
    {
        using var model = NewModel(28);
        using var batch = TestData.Batch(model.Options, 2, seed: 9);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var a = search.Sample(batch, new SamplingOptions { Count = 12, Temperature = 1.0, Seed = 42 }, null, Ct);
        random.manual_seed(999); // torch's global generator must not matter
        var b = search.Sample(batch, new SamplingOptions { Count = 12, Temperature = 1.0, Seed = 42 }, null, Ct);
        var c = search.Sample(batch, new SamplingOptions { Count = 12, Temperature = 1.0, Seed = 43 }, null, Ct);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(a[i].Select(Key), b[i].Select(Key));
            Assert.NotEqual(a[i].Select(Key), c[i].Select(Key));
            Assert.True(a[i].Select(Key).Distinct().Count() > 1, "samples at T = 1 of a random model should differ");

            // Samples are scored by the untempered model.
            foreach (var s in a[i].Take(3)) Assert.Equal(SequenceLogProbability(model, memory, i, s.Tokens), s.LogProbability, 4);
        }

        // Images in one batch draw from different streams.
        Assert.NotEqual(a[0].Select(Key), a[1].Select(Key));
    }

    [Fact]
    public void Sampled_first_tokens_follow_the_tempered_distribution_and_top_p_cuts_the_tail()
    {
        using var model = NewModel(29);
        using var batch = TestData.Batch(model.Options, 1, seed: 10);
        using var memory = Memory(model, batch);
        var lp = NextLogProbabilities(model, memory, 0, []);
        const double temperature = 1.7;
        var tempered = lp.Select(x => Math.Exp(x / temperature)).ToArray();
        double z = tempered.Sum();
        var expected = tempered.Select(x => x / z).ToArray();

        const int n = 3000;
        var samples = new GeoTokenSearch(model).Sample(batch, new SamplingOptions { Count = n, Temperature = temperature, Seed = 7 }, null, Ct)[0];
        var counts = new double[6];
        foreach (var s in samples) counts[s.Tokens[0]]++;
        double chi2 = 0;
        for (int k = 0; k < 6; k++) chi2 += Math.Pow(counts[k] - n * expected[k], 2) / (n * expected[k]);
        Assert.True(chi2 < 20.5, $"χ² = {chi2:F1} with 5 degrees of freedom (p < 0.001 beyond 20.5); counts {string.Join(", ", counts)}, expected {string.Join(", ", expected.Select(e => (e * n).ToString("F0")))}");

        // Top-p 0.5 at T = 1: only the most likely faces whose mass first reaches 0.5 may appear.
        var order = Enumerable.Range(0, 6).OrderByDescending(k => lp[k]).ToArray();
        double cumulative = 0;
        var nucleus = new HashSet<int>();
        foreach (int k in order)
        {
            nucleus.Add(k);
            cumulative += Math.Exp(lp[k]);
            if (cumulative >= 0.5) break;
        }

        var top = new GeoTokenSearch(model).Sample(batch, new SamplingOptions { Count = 300, Temperature = 1, TopP = 0.5, Seed = 8 }, null, Ct)[0];
        Assert.All(top, s => Assert.Contains(s.Tokens[0], nucleus));
        Assert.True(top.Select(s => s.Tokens[0]).Distinct().Count() == nucleus.Count || nucleus.Count == 1);

        // Top-k 2: only the two most likely faces.
        var top2 = new GeoTokenSearch(model).Sample(batch, new SamplingOptions { Count = 200, Temperature = 3, TopK = 2, Seed = 9 }, null, Ct)[0];
        Assert.Equal(order.Take(2).OrderBy(k => k), top2.Select(s => s.Tokens[0]).Distinct().OrderBy(k => k));
    }

    [Fact]
    public void Batched_results_equal_per_image_results()
    {
        using var model = NewModel(30);
        using var batch = TestData.Batch(model.Options, 4, seed: 11);
        var search = new GeoTokenSearch(model);
        var keys = new long[] { 100, 101, 102, 103 };
        var sampling = new SamplingOptions { Count = 6, Temperature = 1.0, Seed = 5 };
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var beams = search.BeamSearch(batch, new BeamSearchOptions { Width = 3 }, Ct);
        var samples = search.Sample(batch, sampling, keys, Ct);
        for (int i = 0; i < 4; i++)
        {
            using var single = Slice(batch, i);
            Assert.Equal(greedy[i].Tokens, search.Greedy(single, cancellationToken: Ct)[0].Tokens);
            var b1 = search.BeamSearch(single, new BeamSearchOptions { Width = 3 }, Ct)[0];
            Assert.Equal(beams[i].Select(Key), b1.Select(Key));
            for (int b = 0; b < b1.Count; b++) Assert.Equal(beams[i][b].LogProbability, b1[b].LogProbability, 4);
            var s1 = search.Sample(single, sampling, [keys[i]], Ct)[0];
            Assert.Equal(samples[i].Select(Key), s1.Select(Key));
        }
    }

    [Fact]
    public void Decoding_checks_mode_cancellation_and_keys()
    {
        using var model = NewModel(31);
        using var batch = TestData.Batch(model.Options, 2, seed: 12);
        var search = new GeoTokenSearch(model);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => search.Greedy(batch, cancellationToken: cts.Token));
        Assert.Throws<ArgumentException>(() => search.Sample(batch, new SamplingOptions(), [1], Ct));
        Assert.Throws<ArgumentException>(() => search.Sample(batch, new SamplingOptions { TopP = 0 }, null, Ct));
        Assert.Throws<ArgumentException>(() => search.BeamSearch(batch, new BeamSearchOptions { Width = 2, ReturnCount = 3 }, Ct));
        model.train();
        var e = Assert.Throws<InvalidOperationException>(() => search.Greedy(batch, cancellationToken: Ct));
        Assert.Contains("eval()", e.Message);
    }

    internal static GeoTokenBatch Slice(GeoTokenBatch batch, int i) => new(
        batch.QueryFeatures.narrow(0, i, 1).clone(),
        batch.NeighborFeatures.narrow(0, i, 1).clone(),
        batch.NeighborTokens.narrow(0, i, 1).clone());
}

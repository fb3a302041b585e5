using GeoToken.Decoding;
using GeoToken.Tokens;
using static GeoToken.Model.Tests.Decoding.SearchTestSupport;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Decoding;

public class GeoTokenSearchTests
{
    [Theory]
    [InlineData(ContextLayout.Compact)]
    [InlineData(ContextLayout.Paper)]
    public void Greedy_picks_the_argmax_of_full_redecoding_at_every_position(ContextLayout layout)
    {
        using var model = NewModel(21, TestData.Micro(layout: layout, dropout: 0));
        using var batch = TestData.Batch(model.Options, 3, seed: 2);
        using var memory = Memory(model, batch);
        var greedy = new GeoTokenSearch(model).Greedy(batch, cancellationToken: Ct);
        Assert.Equal(3, greedy.Count);
        for (int i = 0; i < 3; i++)
        {
            // Up to near-ties, which the cached and the full decoding may break differently.
            AssertGreedy(model, memory, i, greedy[i]);
            Assert.Equal(model.Tokenizer.Decode(greedy[i].Tokens.ToArray()), greedy[i].Cell);
            Assert.Equal(model.Tokenizer.Level, greedy[i].Cell.Level);
        }
    }

    [Fact]
    public void Beam_width_one_equals_greedy()
    {
        using var model = NewModel(22);
        using var batch = TestData.Batch(model.Options, 4, seed: 3);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var beams = search.BeamSearch(batch, new BeamSearchOptions { Width = 1 }, Ct);
        for (int i = 0; i < 4; i++)
        {
            Assert.Single(beams[i]);
            AssertSameUpToNearTie(model, memory, i, greedy[i], beams[i][0]);
        }
    }

    [Fact]
    public void A_beam_covering_the_tree_returns_the_true_best_sequences_and_a_narrow_beam_never_beats_them()
    {
        // L = 4, G = 2: 6 × 16 × 16 = 1,536 sequences, few enough to score them all. Width 96 keeps every
        // two-token prefix, so the search is exhaustive and returns the true best sequences. A narrow beam
        // guarantees less: its beams are distinct sequences scored by the model, so its b-th best scores at most
        // the b-th best of all sequences. (It need not beat greedy: greedy's path can fall out of the beam.)
        var options = ShortSequence();
        using var model = NewModel(23, options);
        const int images = 4;
        using var batch = TestData.Batch(options, images, seed: 4);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var wide = search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 96, ReturnCount = 10 }, Ct);
        var narrow = search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 5 }, Ct);
        for (int i = 0; i < images; i++)
        {
            var all = ReferenceBeams(model, memory, i, int.MaxValue); // every sequence, best first
            Assert.Equal(6 * 16 * 16, all.Count);
            AssertBeamsMatch(model, memory, i, all.Take(10).ToList(), wide[i]);
            Assert.Equal(5, narrow[i].Count);
            Assert.Equal(5, narrow[i].Select(Key).Distinct().Count());
            for (int b = 0; b < 5; b++)
            {
                AssertScore(model, memory, i, narrow[i][b]);
                Assert.True(narrow[i][b].LogProbability <= all[b].Score + ScoreTolerance, $"image {i}: narrow beam {b} scores {narrow[i][b].LogProbability} > the true {b}-th best {all[b].Score}");
            }

            // Both lists come best first by the search's own scores.
            foreach (var beams in new[] { wide[i], narrow[i] })
            {
                for (int b = 1; b < beams.Count; b++) Assert.True(beams[b - 1].LogProbability >= beams[b].LogProbability);
            }
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
                Assert.True(px >= py - ScoreTolerance, $"image {i}, beams {b - 1} and {b} differ first at position {p}: prefix log-probabilities {px} < {py}");
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
        for (int i = 0; i < 2; i++) AssertBeamsMatch(model, memory, i, ReferenceBeams(model, memory, i, 4), beams[i]);
    }

    [Fact]
    public void Two_stage_search_commits_to_the_most_probable_cell_and_returns_the_best_sequences_inside_it()
    {
        // L = 4, G = 2: 96 two-token prefixes (level-2 cells); width 96 keeps them all, so the commit is exact.
        var options = ShortSequence();
        using var model = NewModel(28, options);
        using var batch = TestData.Batch(options, 1, seed: 9);
        using var memory = Memory(model, batch);
        var prefixes = ReferenceBeams(model, memory, 0, int.MaxValue, length: 2); // all 96 prefixes, best first
        var cell = prefixes[ClearArgMax(prefixes.Select(c => c.Score).ToList(), ScoreTolerance, "the most probable level-2 cell")];
        var inside = ReferenceBeams(model, memory, 0, int.MaxValue, start: cell).Take(10).ToList();
        var beams = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { Width = 96, ReturnCount = 10, CommitLevel = 2, CommitScore = BeamCommitScore.CellMass }, Ct)[0];
        AssertBeamsMatch(model, memory, 0, inside, beams);

        // The one-stage search's best leaf need not lie in the committed cell; being exhaustive here, it scores at least as high.
        var oneStage = new GeoTokenSearch(model).BeamSearch(batch, new BeamSearchOptions { Width = 96, ReturnCount = 1, CommitLevel = null }, Ct)[0][0];
        Assert.True(oneStage.LogProbability >= beams[0].LogProbability - ScoreTolerance);
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
            var cells = ReferenceBeams(model, memory, i, int.MaxValue, length: 2); // best first
            // A mass (face + cell, at most 2) moves by at most 2 × ScoreTolerance when the log-probabilities move by ScoreTolerance.
            var cell = cells[ClearArgMax(cells.Select(c => faceMass[c.Tokens[0]] + Math.Exp(c.Score)).ToList(), 2 * ScoreTolerance, $"image {i}'s hierarchy mass")];
            var byMass = cells[ClearArgMax(cells.Select(c => c.Score).ToList(), ScoreTolerance, $"image {i}'s most probable level-2 cell")];
            AssertBeamsMatch(model, memory, i, ReferenceBeams(model, memory, i, 5, start: cell), byHierarchy[i]);
            Assert.Equal(Key(byMass.Tokens), Key(byCell[i][0].Tokens.Take(2).ToArray()));
            if (Key(cell.Tokens) != Key(byMass.Tokens)) differ++;
        }

        // The two scores disagree on some images (else this test would not tell them apart).
        Assert.InRange(differ, 1, images);
    }

    [Fact]
    public void After_the_commit_the_search_is_a_beam_search_inside_the_committed_cell()
    {
        using var model = NewModel(29);
        using var batch = TestData.Batch(model.Options, 3, seed: 10);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        int level = model.Tokenizer.LevelOfPrefix(2);
        var twoStage = search.BeamSearch(batch, new BeamSearchOptions { Width = 4, CommitLevel = level }, Ct);
        for (int i = 0; i < 3; i++)
        {
            var cell = twoStage[i][0].Cell.Parent(level);
            Assert.All(twoStage[i], b => Assert.Equal(cell, b.Cell.Parent(level)));

            // Both the two-stage search and a one-stage search confined to the cell (one image alone) are the
            // width-4 beam search that starts from the cell's two-token prefix.
            var prefix = twoStage[i][0].Tokens.Take(2).ToArray();
            var reference = ReferenceBeams(model, memory, i, 4, start: (prefix, SequenceLogProbability(model, memory, i, prefix)));
            AssertBeamsMatch(model, memory, i, reference, twoStage[i]);
            using var single = Slice(batch, i);
            var inCell = search.BeamSearch(single, new BeamSearchOptions { Width = 4, CommitLevel = null, Region = DecodingRegion.FromCells([cell]) }, Ct)[0];
            AssertBeamsMatch(model, memory, i, reference, inCell);
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
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);

        // Every sample is a greedy decoding: at each position the most probable token, up to near-ties. At T = 1e-4 a
        // token 30 T below the best has relative weight e^-30, so a draw of it (p < 1e-11) counts as a tie.
        foreach (var (options, tie) in new[]
        {
            (new SamplingOptions { Count = 4, Temperature = 0 }, ScoreTolerance),
            (new SamplingOptions { Count = 4, Temperature = 1e-4, Seed = 3 }, Math.Max(ScoreTolerance, 30 * 1e-4)),
            (new SamplingOptions { Count = 4, Temperature = 1.5, TopK = 1, Seed = 4 }, ScoreTolerance),
            (new SamplingOptions { Count = 4, Temperature = 1.0, TopP = 1e-9, Seed = 5 }, ScoreTolerance),
        })
        {
            var samples = search.Sample(batch, options, null, Ct);
            for (int i = 0; i < 3; i++)
            {
                foreach (var s in samples[i]) AssertGreedy(model, memory, i, s, tie);
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
            foreach (var s in a[i].Take(3)) AssertScore(model, memory, i, s);
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

        // Top-p 0.5 at T = 1: only the most likely faces whose mass first reaches 0.5 may appear. The fixture
        // must not put a cumulative mass, or the faces on either side of the cut, within rounding of the cut.
        var order = Enumerable.Range(0, 6).OrderByDescending(k => lp[k]).ToArray();
        double cumulative = 0;
        var nucleus = new HashSet<int>();
        foreach (int k in order)
        {
            nucleus.Add(k);
            cumulative += Math.Exp(lp[k]);
            Assert.True(Math.Abs(cumulative - 0.5) > ScoreTolerance, $"fixture: the faces' cumulative mass {cumulative} is at the top-p cut");
            if (cumulative >= 0.5) break;
        }

        Assert.True(lp[order[nucleus.Count - 1]] - lp[order[nucleus.Count]] > ScoreTolerance, "fixture: a near-tie at the top-p cut");
        Assert.True(lp[order[1]] - lp[order[2]] > ScoreTolerance, "fixture: a near-tie at the top-2 cut");

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
        // A batch of four rows and one row round differently, so the results agree up to rounding: greedy up to
        // near-ties, beams both equal to the reference beam search, and samples both the draws of the key's random
        // stream (the same draws, except where a uniform number falls within rounding of an interval boundary).
        using var model = NewModel(30);
        using var batch = TestData.Batch(model.Options, 4, seed: 11);
        using var memory = Memory(model, batch);
        var search = new GeoTokenSearch(model);
        var keys = new long[] { 100, 101, 102, 103 };
        var sampling = new SamplingOptions { Count = 6, Temperature = 1.0, Seed = 5 };
        var beamOptions = new BeamSearchOptions { Width = 3, CommitLevel = null };
        var greedy = search.Greedy(batch, cancellationToken: Ct);
        var beams = search.BeamSearch(batch, beamOptions, Ct);
        var samples = search.Sample(batch, sampling, keys, Ct);
        for (int i = 0; i < 4; i++)
        {
            using var single = Slice(batch, i);
            AssertSameUpToNearTie(model, memory, i, greedy[i], search.Greedy(single, cancellationToken: Ct)[0]);
            var reference = ReferenceBeams(model, memory, i, 3);
            AssertBeamsMatch(model, memory, i, reference, beams[i]);
            AssertBeamsMatch(model, memory, i, reference, search.BeamSearch(single, beamOptions, Ct)[0]);
            var s1 = search.Sample(single, sampling, [keys[i]], Ct)[0];
            var fragile = AssertSampled(model, memory, i, samples[i], sampling.Temperature, sampling.Seed, keys[i]);
            var fragileAlone = AssertSampled(model, memory, i, s1, sampling.Temperature, sampling.Seed, keys[i]);
            for (int j = 0; j < s1.Count; j++)
            {
                if (!fragile[j] && !fragileAlone[j]) Assert.Equal(Key(samples[i][j]), Key(s1[j]));
            }
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

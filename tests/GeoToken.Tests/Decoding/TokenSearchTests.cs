using GeoToken.Decoding;
using GeoToken.Randomness;
using GeoToken.Tokens;

namespace GeoToken.Tests.Decoding;

/// <summary>
/// The runtime-neutral search on a managed stand-in for a model (<see cref="TableSession"/>: a fixed score for every
/// prefix and token), where exact answers can be enumerated: no runtime, no rounding between two code paths.
/// </summary>
public class TokenSearchTests
{
    // Level 4, two levels per token: a face then two 16-way tokens, 6 × 16 × 16 = 1536 sequences.
    private static readonly GeoTokenizer Tokenizer = new(new GeoTokenizerOptions { Level = 4, GroupSize = 2 });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Greedy_follows_the_highest_score_of_each_prefix()
    {
        var session = new TableSession(Tokenizer, images: 3, seed: 1);
        var greedy = new TokenSearch(Tokenizer).Greedy(session, cancellationToken: Ct);
        for (int i = 0; i < 3; i++)
        {
            var prefix = new List<int>();
            double logp = 0;
            for (int p = 0; p < Tokenizer.Length; p++)
            {
                var lp = TableSession.LogSoftmax(session.Scores(i, prefix));
                int best = Array.IndexOf(lp, lp.Max());
                prefix.Add(best);
                logp += lp[best];
            }

            Assert.Equal(prefix, greedy[i].Tokens);
            Assert.Equal(logp, greedy[i].LogProbability, 1e-12);
            Assert.Equal(Tokenizer.Decode(prefix.ToArray()), greedy[i].Cell);
        }
    }

    [Fact]
    public void One_stage_beam_search_as_wide_as_every_two_token_prefix_is_exhaustive()
    {
        // Width 96 = 6 × 16 keeps every prefix of the first two positions, so the last step ranks all 1536 sequences.
        var session = new TableSession(Tokenizer, images: 2, seed: 2);
        var beams = new TokenSearch(Tokenizer).BeamSearch(session, new BeamSearchOptions { Width = 96, CommitLevel = null }, Ct);
        for (int i = 0; i < 2; i++)
        {
            var all = Enumerable.Range(0, 6 * 16 * 16).Select(n => new[] { n / 256, n / 16 % 16, n % 16 })
                .Select(tokens => (Tokens: tokens, Score: session.SequenceLogProbability(i, tokens)))
                .OrderByDescending(x => x.Score).Take(96).ToList();
            Assert.Equal(all.Select(x => string.Join(",", x.Tokens)), beams[i].Select(b => string.Join(",", b.Tokens)));
            Assert.All(all.Zip(beams[i]), x => Assert.Equal(x.First.Score, x.Second.LogProbability, 1e-12));
        }

        Assert.True(session.RowsStayedGrouped);
    }

    [Fact]
    public void Two_stage_beam_search_keeps_every_beam_in_the_committed_cell()
    {
        // Level 2 is the first token after the face: every beam shares its first two tokens.
        var session = new TableSession(Tokenizer, images: 2, seed: 3);
        var beams = new TokenSearch(Tokenizer).BeamSearch(session, new BeamSearchOptions { Width = 5, CommitLevel = 2 }, Ct);
        foreach (var perImage in beams)
        {
            Assert.Equal(5, perImage.Count);
            Assert.Single(perImage.Select(b => (b.Tokens[0], b.Tokens[1])).Distinct());
            Assert.Equal(5, perImage.Select(b => b.Tokens[2]).Distinct().Count());
        }
    }

    [Fact]
    public void Samples_follow_their_image_key_not_their_batch_and_pools_count_every_sequence()
    {
        var search = new TokenSearch(Tokenizer);
        var options = new CandidatePoolOptions { Seed = 7, BeamWidth = 3 };
        var both = search.Run(new TableSession(Tokenizer, images: 2, seed: 4), SearchPlan.ForPool(options), [10, 11], Ct);
        var second = search.Run(new TableSession(Tokenizer, images: 2, seed: 4, only: 1), SearchPlan.ForPool(options), [11], Ct);
        Assert.Equal(both[1].Samples.Select(s => string.Join(",", s.Tokens)), second[0].Samples.Select(s => string.Join(",", s.Tokens)));
        Assert.NotEqual(both[0].Samples.Select(s => string.Join(",", s.Tokens)), both[1].Samples.Select(s => string.Join(",", s.Tokens)));
        var pool = both[0].ToPool();
        Assert.Equal(1 + 30 + 3, pool.Sum(c => c.Count));
        Assert.Equal(both[0].Greedy!.Cell, pool[0].Cell);
    }

    [Fact]
    public void Bad_plans_and_keys_are_refused_naming_the_setting()
    {
        var search = new TokenSearch(Tokenizer);
        var e = Assert.Throws<ArgumentException>(() => search.Run(new TableSession(Tokenizer, 2, 5), new SearchPlan(), null, Ct));
        Assert.Contains("asks for nothing", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => search.Run(new TableSession(Tokenizer, 2, 5), new SearchPlan { BeamWidth = 2, BeamReturn = 3 }, null, Ct));
        Assert.Contains("BeamReturn", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => search.Run(new TableSession(Tokenizer, 2, 5), new SearchPlan { Samples = 2 }, [1], Ct));
        Assert.Contains("imageKeys has 1 keys", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A decoder session over a fixed table: the score of token k after a prefix is a hash of (image, prefix, k). Tracks
    /// every row's image and prefix through expand, reorder and step, and checks that rows stay grouped by image.
    /// </summary>
    private sealed class TableSession : IDecoderSession
    {
        private readonly GeoTokenizer _tokenizer;
        private readonly ulong _seed;
        private List<(int Image, List<int> Prefix)> _rows;
        private int _position;

        public TableSession(GeoTokenizer tokenizer, int images, ulong seed, int? only = null)
        {
            _tokenizer = tokenizer;
            _seed = seed;
            _rows = Enumerable.Range(0, images).Where(i => only is null || i == only).Select(i => (i, new List<int>())).ToList();
        }

        public bool RowsStayedGrouped { get; private set; } = true;

        public int Rows => _rows.Count;

        public void Expand(int copies) => _rows = _rows.SelectMany(r => Enumerable.Repeat(r, copies).Select(x => (x.Image, x.Prefix.ToList()))).ToList();

        public float[] Step(ReadOnlySpan<long> previousTokens)
        {
            if (_position > 0)
            {
                Assert.Equal(_rows.Count, previousTokens.Length);
                for (int r = 0; r < _rows.Count; r++) _rows[r].Prefix.Add((int)previousTokens[r]);
            }
            else
            {
                Assert.True(previousTokens.IsEmpty);
            }

            _position++;
            return _rows.SelectMany(r => Scores(r.Image, r.Prefix)).ToArray();
        }

        public void Reorder(ReadOnlySpan<long> rows)
        {
            var old = _rows;
            int perImageOld = old.Count / old.Select(r => r.Image).Distinct().Count(), perImageNew = rows.Length / old.Select(r => r.Image).Distinct().Count();
            var next = new List<(int, List<int>)>();
            for (int i = 0; i < rows.Length; i++)
            {
                if (rows[i] / perImageOld != i / perImageNew) RowsStayedGrouped = false;
                next.Add((old[(int)rows[i]].Image, old[(int)rows[i]].Prefix.ToList()));
            }

            _rows = next;
        }

        public float[] Scores(int image, IReadOnlyList<int> prefix)
        {
            ulong h = SplitMix64.Mix(_seed, (ulong)image);
            foreach (int t in prefix) h = SplitMix64.Mix(h, (ulong)t + 1);
            int v = _tokenizer.VocabularySizes[prefix.Count];
            var rng = new SplitMix64(h);
            return Enumerable.Range(0, v).Select(_ => (float)(4 * rng.NextDouble())).ToArray();
        }

        public double SequenceLogProbability(int image, int[] tokens)
        {
            double sum = 0;
            for (int p = 0; p < tokens.Length; p++) sum += LogSoftmax(Scores(image, tokens[..p]))[tokens[p]];
            return sum;
        }

        public static double[] LogSoftmax(float[] scores)
        {
            double max = scores.Max(x => (double)x);
            double lse = max + Math.Log(scores.Sum(x => Math.Exp(x - max)));
            return scores.Select(x => x - lse).ToArray();
        }
    }
}

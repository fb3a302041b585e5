using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Reranking;

namespace GeoToken.Tests.Reranking;

/// <summary>DelegatingReranker, RerankerBuilder and its layers, the rerankers by name, and pool scores found by candidate.</summary>
public sealed class RerankerBuilderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly GeoCandidate[] Pool =
    [
        new() { Position = new LatLng(10, 10), LogProbability = -3, Count = 5 },
        new() { Position = new LatLng(20, 20), LogProbability = -1, Count = 1 },
        new() { Position = new LatLng(30, 30), LogProbability = -2, Count = 2 },
    ];

    [Fact]
    public async Task The_first_layer_is_the_outermost_and_names_follow_the_composites()
    {
        var consensus = new ConsensusReranker();
        var failing = new Failing();
        var built = new RerankerBuilder(failing).UseFallback(new LogProbReranker()).Build();
        Assert.IsType<FallbackReranker>(built);
        Assert.Equal("failing→logprob", built.Name);
        var result = await built.RerankAsync(new RerankQuery(), Pool, Ct);
        Assert.Equal("logprob", result.DecidedBy);
        Assert.Equal(["failing: no"], result.FallbackReasons);
        Assert.Equal(Pool[1], result.Best.Candidate);

        // A fallback around a cascade around consensus, as the CLI's judge: the same as composing by hand.
        var cascade = new RerankerBuilder(consensus).UseFallback(consensus).UseCascade(new LogProbReranker(), 2).Build();
        var byHand = new FallbackReranker(new CascadeReranker(consensus, new LogProbReranker(), 2), consensus);
        Assert.Equal(byHand.Name, cascade.Name);
        Assert.Equal("consensus>top2>logprob→consensus", cascade.Name);
        var withNeighbors = new RerankQuery { Neighbors = [new Neighbor(0, 0.9, new LatLng(29, 29)), new Neighbor(1, 0.8, new LatLng(11, 11))] };
        var expected = await byHand.RerankAsync(withNeighbors, Pool, Ct);
        Assert.Equal(expected.Ranked, (await cascade.RerankAsync(withNeighbors, Pool, Ct)).Ranked);
        Assert.Equal("logprob", expected.DecidedBy);

        // Use with a delegating layer: calls pass through it; it sees the built reranker inside.
        var counting = (Counting?)null;
        var layered = new RerankerBuilder(new LogProbReranker()).Use(inner => counting = new Counting(inner)).Build();
        Assert.Same(counting, layered);
        Assert.Equal("logprob", layered.Name);
        Assert.Equal(Pool[1], (await layered.RerankAsync(new RerankQuery(), Pool, Ct)).Best.Candidate);
        Assert.Equal(1, counting!.Calls);
        Assert.Throws<InvalidOperationException>(() => new RerankerBuilder(consensus).Use(_ => null!).Build());
    }

    [Fact]
    public async Task Rerankers_by_name_and_pool_scores_found_by_the_very_candidate()
    {
        Assert.Equal(["consensus", "logprob", "mbr", "reward"], StandardRerankers.Names);
        Assert.IsType<MbrReranker>(StandardRerankers.Create("MBR"));
        Assert.Contains("use consensus, logprob, mbr, reward", Assert.Throws<ArgumentException>(() => StandardRerankers.Create("oracle")).Message);

        var scores = new CandidateScores("reward", Pool, [0.2, 0.1, 0.9]);
        var query = new RerankQuery { PoolScores = [scores] };
        var ranked = await new RewardReranker().RerankAsync(query, Pool, Ct);
        Assert.Equal([Pool[2], Pool[0], Pool[1]], ranked.Ranked.Select(r => r.Candidate));
        Assert.Equal([0.9, 0.2, 0.1], ranked.Ranked.Select(r => r.Score));

        // A copy equal in value is another candidate; another scorer's scores are not the reward's.
        Assert.False(scores.TryGetScore(Pool[0] with { }, out _));
        await Assert.ThrowsAsync<RerankerException>(() => new RewardReranker().RerankAsync(new RerankQuery { PoolScores = [new CandidateScores("other", Pool, [1, 2, 3])] }, Pool, Ct));
        Assert.Equal("similar", new PoolScoreReranker("other", "similar").Name);
        Assert.Throws<ArgumentException>(() => new CandidateScores("reward", Pool, [1, 2]));
    }

    private sealed class Failing : IReranker
    {
        public string Name => "failing";

        public Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default) => throw new RerankerException("no");
    }

    private sealed class Counting(IReranker inner) : DelegatingReranker(inner)
    {
        public int Calls { get; private set; }

        public override Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default)
        {
            Calls++;
            return base.RerankAsync(query, pool, cancellationToken);
        }
    }
}

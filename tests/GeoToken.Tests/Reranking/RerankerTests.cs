using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Reranking;

namespace GeoToken.Tests.Reranking;

public sealed class RerankerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GeoCandidate At(double lat, double lon, double logp, int count = 1) =>
        new() { Position = new LatLng(lat, lon), LogProbability = logp, Count = count };

    private static RerankQuery NearRome => new()
    {
        Neighbors =
        [
            new Neighbor(1, 0.90, new LatLng(41.90, 12.50)),
            new Neighbor(2, 0.89, new LatLng(41.89, 12.48)),
            new Neighbor(3, 0.70, new LatLng(40.85, 14.27)),
            new Neighbor(4, 0.30, new LatLng(35.68, 139.69)),
        ],
    };

    [Fact]
    public async Task Logprob_orders_by_log_probability_and_needs_it()
    {
        var pool = new[] { At(0, 1, -5), At(0, 2, -1), At(0, 3, -3) };
        var r = await new LogProbReranker().RerankAsync(new RerankQuery(), pool, Ct);
        Assert.Equal([2.0, 3.0, 1.0], r.Ranked.Select(s => s.Candidate.Position.Longitude));
        var free = new[] { GeoCandidate.At(new LatLng(1, 1), CandidateSources.Judge) };
        await Assert.ThrowsAsync<RerankerException>(() => new LogProbReranker().RerankAsync(new RerankQuery(), free, Ct));
    }

    [Fact]
    public async Task Consensus_prefers_the_candidate_the_similar_neighbors_agree_with()
    {
        var tokyo = At(35.7, 139.7, -0.5);
        var rome = At(41.9, 12.5, -2.0);
        var naples = At(40.85, 14.3, -2.0);
        var r = await new ConsensusReranker().RerankAsync(NearRome, [tokyo, naples, rome], Ct);
        Assert.Equal(rome, r.Best.Candidate);
        Assert.Equal(tokyo, r.Ranked[^1].Candidate);
    }

    [Fact]
    public async Task Mbr_prefers_where_the_samples_concentrate_over_the_single_most_probable_cell()
    {
        // The most probable cell is an isolated one in Tokyo; most samples fell around Rome and Naples.
        var tokyo = At(35.7, 139.7, -0.5, count: 3);
        var rome = At(41.9, 12.5, -2.0, count: 2);
        var nearRome = At(41.8, 12.6, -2.5, count: 2);
        var naples = At(40.85, 14.3, -2.2, count: 1);
        var r = await new MbrReranker().RerankAsync(new RerankQuery(), [tokyo, naples, nearRome, rome], Ct);
        // Rome: 2·5 (itself) + 2·4 (near Rome, 14 km) + 1·3 (Naples, 190 km) = 21; near Rome the same with a lower log-probability.
        Assert.Equal(12.5, r.Ranked[0].Candidate.Position.Longitude);
        Assert.Equal(21.0, r.Ranked[0].Score, 2);
        Assert.Equal(12.6, r.Ranked[1].Candidate.Position.Longitude);
        Assert.Equal(139.7, r.Ranked[^1].Candidate.Position.Longitude);
        Assert.Equal("mbr", r.DecidedBy);
    }

    [Fact]
    public async Task Coarse_to_fine_mbr_decides_at_the_coarsest_threshold_first()
    {
        // Two candidates in Japan agree exactly (street level); three in Europe, hundreds of km apart, agree at 2500 km.
        var tokyo = At(35.7, 139.7, -0.5, count: 2);
        var paris = At(48.9, 2.35, -2.0);
        var rome = At(41.9, 12.5, -2.0);
        var berlin = At(52.5, 13.4, -2.0);
        var sum = await new MbrReranker().RerankAsync(new RerankQuery(), [tokyo, paris, rome, berlin], Ct);
        var c2f = await new MbrReranker(new MbrRerankerOptions { CoarseToFine = true }).RerankAsync(new RerankQuery(), [tokyo, paris, rome, berlin], Ct);
        // Expected hits: Tokyo 2·5 = 10; each European city 5 + 1 + 1 = 7 (the others are 880–1,190 km away: within 2500 km only).
        Assert.Equal(139.7, sum.Ranked[0].Candidate.Position.Longitude);
        Assert.NotEqual(139.7, c2f.Ranked[0].Candidate.Position.Longitude);
        Assert.Equal("mbr-c2f", c2f.DecidedBy);
    }

    [Fact]
    public void Mbr_rejects_bad_thresholds()
    {
        var e = Assert.Throws<ArgumentException>(() => new MbrReranker(new MbrRerankerOptions { ThresholdsKm = [25, -1] }));
        Assert.Contains("-1", e.Message);
        Assert.Throws<ArgumentException>(() => new MbrReranker(new MbrRerankerOptions { ThresholdsKm = [] }));
    }

    [Fact]
    public async Task Consensus_without_neighbors_fails_clearly()
    {
        var e = await Assert.ThrowsAsync<RerankerException>(() => new ConsensusReranker().RerankAsync(new RerankQuery(), [At(1, 1, -1)], Ct));
        Assert.Contains("needs the query's retrieved neighbors", e.Message);
    }

    [Fact]
    public async Task Fallback_records_why_and_cascade_reorders_only_the_top()
    {
        var pool = new[] { At(35.7, 139.7, -0.5), At(41.9, 12.5, -2.0), At(40.85, 14.3, -1.0) };
        var chain = new FallbackReranker(new ConsensusReranker(), new LogProbReranker());
        var r = await chain.RerankAsync(new RerankQuery(), pool, Ct);
        Assert.Equal("logprob", r.DecidedBy);
        Assert.Contains("consensus: The consensus reranker needs", Assert.Single(r.FallbackReasons));

        // logprob: Tokyo, Naples, Rome; consensus over the top 2 puts Naples first.
        var cascade = await new CascadeReranker(new LogProbReranker(), new ConsensusReranker(), 2).RerankAsync(NearRome, pool, Ct);
        Assert.Equal([14.3, 139.7, 12.5], cascade.Ranked.Select(s => s.Candidate.Position.Longitude));
    }
}

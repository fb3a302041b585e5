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
        Neighbours =
        [
            new Neighbour(1, 0.90, new LatLng(41.90, 12.50)),
            new Neighbour(2, 0.89, new LatLng(41.89, 12.48)),
            new Neighbour(3, 0.70, new LatLng(40.85, 14.27)),
            new Neighbour(4, 0.30, new LatLng(35.68, 139.69)),
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
    public async Task Consensus_prefers_the_candidate_the_similar_neighbours_agree_with()
    {
        var tokyo = At(35.7, 139.7, -0.5);
        var rome = At(41.9, 12.5, -2.0);
        var naples = At(40.85, 14.3, -2.0);
        var r = await new ConsensusReranker().RerankAsync(NearRome, [tokyo, naples, rome], Ct);
        Assert.Equal(rome, r.Best.Candidate);
        Assert.Equal(tokyo, r.Ranked[^1].Candidate);
    }

    [Fact]
    public async Task Consensus_without_neighbours_fails_clearly()
    {
        var e = await Assert.ThrowsAsync<RerankerException>(() => new ConsensusReranker().RerankAsync(new RerankQuery(), [At(1, 1, -1)], Ct));
        Assert.Contains("needs the query's retrieved neighbours", e.Message);
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

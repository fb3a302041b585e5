using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Reranking;

namespace GeoToken.Tests.Reranking;

/// <summary><see cref="RewardSelection"/>: ours (highest reward) and the reference's (best bin, then its most confident).</summary>
public sealed class RewardSelectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<double> Chosen(RewardSelection selection, params double[] rewards)
    {
        GeoCandidate[] pool = [.. rewards.Select((r, i) => new GeoCandidate { Position = new LatLng(0, i + 1) })];
        var query = new RerankQuery { PoolScores = [new CandidateScores(RewardReranker.ScorerName, pool, rewards)] };
        var best = (await new RewardReranker(selection).RerankAsync(query, pool, Ct)).Best.Candidate;
        return rewards[Array.IndexOf(pool, best)];
    }

    [Fact]
    public async Task Both_rules_take_the_highest_reward_when_a_candidate_is_in_the_within_bin()
    {
        Assert.Equal(0.9, await Chosen(RewardSelection.MostLikelyWithin, 0.6, 0.9, 0.2));
        Assert.Equal(0.9, await Chosen(RewardSelection.Reference, 0.6, 0.9, 0.2));
        Assert.Equal(0.5, await Chosen(RewardSelection.Reference, 0.5, 0.1, 0.2)); // argmax of [0.5, 0.5] is bin 0, "within"
    }

    [Fact]
    public async Task With_every_candidate_beyond_the_reference_takes_the_most_confidently_beyond()
    {
        Assert.Equal(0.4, await Chosen(RewardSelection.MostLikelyWithin, 0.3, 0.2, 0.4));
        Assert.Equal(0.2, await Chosen(RewardSelection.Reference, 0.3, 0.2, 0.4));
        Assert.Equal("reward-paper", new RewardReranker(RewardSelection.Reference).Name);
        Assert.Equal("reward", new RewardReranker().Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardReranker((RewardSelection)5));
    }
}

using GeoToken.AI.Judging;
using GeoToken.Decoding;
using GeoToken.Reranking;
using Microsoft.Extensions.AI;

namespace GeoToken.AI.Tests.Judging;

public sealed class MllmJudgeRerankerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pool_selection_puts_the_chosen_candidate_first_and_keeps_the_rest()
    {
        var client = ScriptedChatClient.Replies("""{"choice": 2, "latitude": null, "longitude": null, "reason": "Paris"}""");
        var result = await new MllmJudgeReranker(client, JudgeFixtures.Fast()).RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        Assert.Equal([JudgeFixtures.Paris, JudgeFixtures.Lyon, JudgeFixtures.Sydney], result.Ranked.Select(r => r.Candidate));
        Assert.Equal("judge-pool", result.DecidedBy);
        var (messages, options) = Assert.Single(client.Calls);
        string prompt = messages[1].Text;
        Assert.Contains("1. (45.7640, 4.8357)", prompt);
        Assert.Contains("2. (48.8566, 2.3522), generated 12 of 22 times", prompt);
        Assert.Contains("(48.8600, 2.3500), similarity 0.910", prompt);
        Assert.IsType<ChatResponseFormatJson>(options!.ResponseFormat);
        Assert.Contains("choice", ((ChatResponseFormatJson)options.ResponseFormat!).Schema!.Value.GetRawText());
    }

    [Fact]
    public async Task Its_own_guess_becomes_a_new_first_candidate()
    {
        var client = ScriptedChatClient.Replies("""{"choice": null, "latitude": 43.2965, "longitude": 5.3698, "reason": "Marseille port"}""");
        var result = await new MllmJudgeReranker(client, JudgeFixtures.Fast()).RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        Assert.Equal(4, result.Ranked.Count);
        Assert.Equal(CandidateSources.Judge, result.Best.Candidate.Sources);
        Assert.Equal(43.2965, result.Best.Candidate.Position.Latitude);
        Assert.Equal(JudgeFixtures.Lyon, result.Ranked[1].Candidate);
    }

    [Fact]
    public async Task The_image_is_attached_when_present()
    {
        var client = ScriptedChatClient.Replies("""{"latitude": 48.85, "longitude": 2.35, "reason": "x"}""");
        await new MllmJudgeReranker(client, JudgeFixtures.Fast(MllmJudgeMode.FreeGeneration)).RerankAsync(JudgeFixtures.Query(withImage: true), JudgeFixtures.Pool, Ct);
        var image = Assert.Single(client.Calls[0].Messages[1].Contents.OfType<DataContent>());
        Assert.Equal("image/jpeg", image.MediaType);
        Assert.Contains("attached photo", client.Calls[0].Messages[1].Text);
    }

    [Fact]
    public async Task Rag_prompt_lists_similar_and_dissimilar_neighbors_but_no_candidates()
    {
        var client = ScriptedChatClient.Replies("""{"latitude": 48.85, "longitude": 2.35, "reason": "x"}""");
        var options = JudgeFixtures.Fast(MllmJudgeMode.Rag) with { SimilarNeighbors = 2, DissimilarNeighbors = 1 };
        var result = await new MllmJudgeReranker(client, options).RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        string prompt = client.Calls[0].Messages[1].Text;
        Assert.Contains("Similar images were taken at:\n- (48.8600, 2.3500)", prompt.ReplaceLineEndings("\n"));
        Assert.Contains("probably not the same place) were taken at:\n- (-22.9000, -43.2000)", prompt.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("45.7640", prompt);
        Assert.Equal(CandidateSources.Judge, result.Best.Candidate.Sources);
    }

    [Fact]
    public async Task Unusable_answers_are_retried()
    {
        var client = ScriptedChatClient.Replies("I think France.", """{"choice": 9}""", """{"choice": 3, "reason": "x"}""");
        var result = await new MllmJudgeReranker(client, JudgeFixtures.Fast()).RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        Assert.Equal(3, client.Calls.Count);
        Assert.Equal(JudgeFixtures.Sydney, result.Best.Candidate);
    }

    [Fact]
    public async Task Timeouts_and_errors_use_attempts_and_finally_fail_with_every_reason()
    {
        var client = new ScriptedChatClient(
            async ct => { await Task.Delay(TimeSpan.FromSeconds(30), ct); return "late"; },
            _ => throw new HttpRequestException("503 Service Unavailable"),
            _ => Task.FromResult("""{"latitude": 0, "longitude": 0}"""));
        var options = JudgeFixtures.Fast() with { Timeout = TimeSpan.FromMilliseconds(200) };
        var e = await Assert.ThrowsAsync<RerankerException>(() => new MllmJudgeReranker(client, options).RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct));
        Assert.Contains("attempt 1: no reply within 0.2 s", e.Message);
        Assert.Contains("attempt 2: HttpRequestException: 503 Service Unavailable", e.Message);
        Assert.Contains("attempt 3: rejected: (0, 0) is 0 km from (0, 0)", e.Message);
    }

    [Fact]
    public async Task A_failing_judge_falls_back_and_the_reason_is_recorded()
    {
        var client = ScriptedChatClient.Replies("no idea", "still no idea");
        var judge = new MllmJudgeReranker(client, JudgeFixtures.Fast() with { MaxAttempts = 2 });
        var chain = new FallbackReranker(judge, new ConsensusReranker(), new LogProbReranker());
        var result = await chain.RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        Assert.Equal("consensus", result.DecidedBy);
        Assert.Contains("judge-pool: judge-pool gave no usable answer in 2 attempt(s)", Assert.Single(result.FallbackReasons));
        Assert.Equal(JudgeFixtures.Paris, result.Best.Candidate); // most neighbors agree with Paris
        Assert.NotEqual(0, result.Best.Candidate.Position.Latitude);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_a_fallback()
    {
        using var cts = new CancellationTokenSource();
        var client = new ScriptedChatClient(async ct => { await cts.CancelAsync(); ct.ThrowIfCancellationRequested(); return ""; });
        var chain = new FallbackReranker(new MllmJudgeReranker(client, JudgeFixtures.Fast()), new LogProbReranker());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => chain.RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, cts.Token));
    }

    [Fact]
    public async Task Cascade_lets_the_judge_reorder_only_the_consensus_top()
    {
        var client = ScriptedChatClient.Replies("""{"choice": 2, "reason": "x"}""");
        var cascade = new CascadeReranker(new ConsensusReranker(), new MllmJudgeReranker(client, JudgeFixtures.Fast()), topN: 2);
        var result = await cascade.RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        // Consensus order: Paris, Lyon, Sydney; the judge sees the top 2 and picks #2 (Lyon).
        Assert.Equal([JudgeFixtures.Lyon, JudgeFixtures.Paris, JudgeFixtures.Sydney], result.Ranked.Select(r => r.Candidate));
        Assert.DoesNotContain("151.2093", client.Calls[0].Messages[1].Text);
    }
}

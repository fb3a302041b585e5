using GeoToken.AI.Judging;
using GeoToken.Decoding;
using GeoToken.Geometry;
using Microsoft.Extensions.AI;

namespace GeoToken.AI.Tests.Judging;

/// <summary><see cref="MllmPromptStyle.Reference"/>: the reference's prompt structure over raw samples, still asking for the schema's JSON.</summary>
public sealed class ReferencePromptTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Merged pool of greedy + 5 samples: Rome is the greedy sequence and was sampled twice, Paris sampled twice, Oslo once.
    private static readonly GeoCandidate Rome = new() { Position = new LatLng(41.9, 12.5), Count = 3, Sources = CandidateSources.Greedy | CandidateSources.Sample };
    private static readonly GeoCandidate Paris = new() { Position = new LatLng(48.8566, 2.3522), Count = 2, Sources = CandidateSources.Sample };
    private static readonly GeoCandidate Oslo = new() { Position = new LatLng(59.9139, 10.7522), Count = 1, Sources = CandidateSources.Sample };
    private static readonly GeoCandidate[] Pool = [Rome, Paris, Oslo];

    private static MllmJudgeOptions Options(MllmJudgeMode mode) => MllmJudgeOptions.Reference(mode) with { RetryDelay = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Pool_selection_numbers_every_raw_sample_and_maps_the_choice_back_to_its_cell()
    {
        var client = ScriptedChatClient.Replies("""{"choice": 4, "latitude": null, "longitude": null, "reason": "Haussmann facades"}""");
        var result = await new MllmJudgeReranker(client, Options(MllmJudgeMode.PoolSelection)).RerankAsync(JudgeFixtures.Query(withImage: true), Pool, Ct);
        Assert.Equal(Paris, result.Best.Candidate); // raw list: 1) 2) Rome, 3) 4) Paris, 5) Oslo
        var (messages, options) = Assert.Single(client.Calls);
        var user = Assert.Single(messages); // no system message, as the reference
        string prompt = user.Text.ReplaceLineEndings("\n");
        Assert.Contains("together with 5 candidate GPS coordinates:\n1) lat=41.90000, lon=12.50000\n2) lat=41.90000, lon=12.50000\n3) lat=48.85660, lon=2.35220\n4) lat=48.85660, lon=2.35220\n5) lat=59.91390, lon=10.75220\n", prompt);
        Assert.DoesNotContain("similarity", prompt); // no retrieved neighbors
        Assert.Contains("\"choice\"", prompt);
        Assert.Single(user.Contents.OfType<DataContent>());
        Assert.Null(options!.Temperature);
        Assert.Contains("choice", ((ChatResponseFormatJson)options.ResponseFormat!).Schema!.Value.GetRawText());

        // A number beyond the raw list is refused by the strict parser (and retried).
        var bad = ScriptedChatClient.Replies("""{"choice": 6, "latitude": null, "longitude": null, "reason": "x"}""", """{"choice": 5, "latitude": null, "longitude": null, "reason": "x"}""");
        var retried = await new MllmJudgeReranker(bad, Options(MllmJudgeMode.PoolSelection)).RerankAsync(JudgeFixtures.Query(), Pool, Ct);
        Assert.Equal(Oslo, retried.Best.Candidate);
        Assert.Equal(2, bad.Calls.Count);
    }

    [Fact]
    public async Task Free_generation_gives_the_greedy_guess_and_the_raw_samples_at_temperature_07()
    {
        var client = ScriptedChatClient.Replies("""{"latitude": 45.4642, "longitude": 9.19, "reason": "Milan"}""");
        var result = await new MllmJudgeReranker(client, Options(MllmJudgeMode.FreeGeneration)).RerankAsync(JudgeFixtures.Query(), Pool, Ct);
        Assert.Equal(CandidateSources.Judge, result.Best.Candidate.Sources);
        Assert.Equal(45.4642, result.Best.Candidate.Position.Latitude);
        var (messages, options) = Assert.Single(client.Calls);
        string prompt = Assert.Single(messages).Text;
        Assert.Contains("best guess for where this image was taken is [41.90000, 12.50000].", prompt);
        Assert.Contains("other guesses for this image are [[41.90000, 12.50000], [41.90000, 12.50000], [48.85660, 2.35220], [48.85660, 2.35220], [59.91390, 10.75220]].", prompt);
        Assert.Contains("You have to give a location", prompt);
        Assert.Contains("\"latitude\"", prompt);
        Assert.Equal(0.7f, options!.Temperature);

        // A numbered choice is not allowed here: nothing was numbered.
        var choosing = ScriptedChatClient.Replies("""{"choice": 1, "latitude": null, "longitude": null, "reason": "x"}""");
        var options1 = Options(MllmJudgeMode.FreeGeneration) with { MaxAttempts = 1 };
        await Assert.ThrowsAsync<GeoToken.Reranking.RerankerException>(() => new MllmJudgeReranker(choosing, options1).RerankAsync(JudgeFixtures.Query(), Pool, Ct));
    }

    [Fact]
    public void The_reference_has_no_rag_prompt_and_ours_stays_the_default()
    {
        Assert.Throws<ArgumentException>(() => MllmJudgeOptions.Reference(MllmJudgeMode.Rag));
        Assert.Throws<ArgumentException>(() => new MllmJudgeReranker(ScriptedChatClient.Replies("{}"), new MllmJudgeOptions { Mode = MllmJudgeMode.Rag, PromptStyle = MllmPromptStyle.Reference }));
        Assert.Equal(MllmPromptStyle.GeoTokenNet, new MllmJudgeOptions().PromptStyle);
    }
}

using System.ClientModel;
using System.ClientModel.Primitives;
using GeoToken.AI.Judging;
using GeoToken.Decoding;
using GeoToken.Reranking;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace GeoToken.AI.Tests.Judging;

/// <summary>The judge through the real OpenAI client library against an OpenAI-compatible HTTP endpoint on loopback.</summary>
public sealed class OpenAIEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IChatClient Client(LoopbackOpenAIServer server) =>
        new ChatClient("loopback-judge", new ApiKeyCredential("test-key"), new OpenAIClientOptions
        {
            Endpoint = server.BaseUri,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // the judge does its own retries
        }).AsIChatClient();

    [Fact]
    public async Task Sends_image_and_json_schema_and_reads_the_choice()
    {
        await using var server = new LoopbackOpenAIServer((200, """{"choice": 2, "latitude": null, "longitude": null, "reason": "Seine"}"""));
        var judge = new MllmJudgeReranker(Client(server), JudgeFixtures.Fast());
        var result = await judge.RerankAsync(JudgeFixtures.Query(withImage: true), JudgeFixtures.Pool, Ct);
        Assert.Equal(JudgeFixtures.Paris, result.Best.Candidate);

        var (path, body) = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", path);
        Assert.Equal("json_schema", body.GetProperty("response_format").GetProperty("type").GetString());
        Assert.Equal("loopback-judge", body.GetProperty("model").GetString());
        var user = body.GetProperty("messages")[1].GetProperty("content");
        var parts = user.EnumerateArray().Select(p => p.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["text", "image_url"], parts);
        Assert.StartsWith("data:image/jpeg;base64,", user[1].GetProperty("image_url").GetProperty("url").GetString());
    }

    [Fact]
    public async Task Server_errors_are_retried_then_free_generation_answers()
    {
        await using var server = new LoopbackOpenAIServer(
            (500, "overloaded"),
            (200, "{\"latitude\": -41.2865, \"longitude\": 174.7762, \"reason\": \"Wellington\"}"));
        var judge = new MllmJudgeReranker(Client(server), JudgeFixtures.Fast(MllmJudgeMode.FreeGeneration));
        var result = await judge.RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(CandidateSources.Judge, result.Best.Candidate.Sources);
        Assert.Equal(-41.2865, result.Best.Candidate.Position.Latitude);
        Assert.Equal(174.7762, result.Best.Candidate.Position.Longitude);
    }

    [Fact]
    public async Task Persistent_failure_falls_back_to_log_probability()
    {
        await using var server = new LoopbackOpenAIServer((500, "down"), (500, "down"));
        var chain = new FallbackReranker(new MllmJudgeReranker(Client(server), JudgeFixtures.Fast() with { MaxAttempts = 2 }), new LogProbReranker());
        var result = await chain.RerankAsync(JudgeFixtures.Query(), JudgeFixtures.Pool, Ct);
        Assert.Equal("logprob", result.DecidedBy);
        Assert.Equal(JudgeFixtures.Lyon, result.Best.Candidate); // highest log-probability
        Assert.Contains("500", result.FallbackReasons[0]);
    }
}

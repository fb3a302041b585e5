using System.ClientModel;
using System.CommandLine;
using GeoToken.AI.Judging;
using GeoToken.Model.Recipes;
using GeoToken.Reranking;
using Microsoft.Extensions.AI;
using OpenAI;

namespace GeoToken.Cli;

/// <summary>
/// The MLLM judge options shared by <c>eval</c> and <c>predict</c>: any OpenAI-compatible chat endpoint
/// (OpenAI, Azure OpenAI's v1 endpoint, Ollama's /v1, Gemini's OpenAI-compatible endpoint, vLLM…).
/// The API key comes from GEOTOKEN_JUDGE_API_KEY or OPENAI_API_KEY, never from the command line.
/// </summary>
internal sealed class JudgeSettings
{
    private readonly Option<string?> _model = new("--judge-model") { HelpName = "MODEL", Description = "Enable the MLLM judge with this chat model (e.g. gpt-4o-mini, llava, gemini-2.0-flash)." };
    private readonly Option<Uri?> _endpoint = new("--judge-endpoint") { HelpName = "URL", Description = "OpenAI-compatible base URL (default https://api.openai.com/v1; Ollama: http://localhost:11434/v1)." };
    private readonly Option<string> _mode = new Option<string>("--judge-mode") { Description = "pool (choose a candidate), free (answer coordinates) or rag (neighbor coordinates).", DefaultValueFactory = _ => "pool" }.OneOf("pool", "free", "rag");
    private readonly Option<int> _top = new("--judge-top") { HelpName = "N", Description = "The judge sees the consensus top N candidates.", DefaultValueFactory = _ => 5 };
    private readonly Option<double> _timeout = new("--judge-timeout") { HelpName = "SECONDS", Description = "Seconds per judge call.", DefaultValueFactory = _ => 60 };

    public void AddTo(Command command)
    {
        command.Add(_model);
        command.Add(_endpoint);
        command.Add(_mode);
        command.Add(_top);
        command.Add(_timeout);
    }

    /// <summary>
    /// The judge as a reranker (consensus → judge of the top N, falling back to consensus), or null when not enabled. With
    /// the paper recipe, as the reference: its prompts over the whole pool, falling back to the highest log-probability.
    /// </summary>
    public IReranker? Create(ParseResult parse, GeoTokenRecipe? recipe = null)
    {
        if (parse.GetValue(_model) is not { } model) return null;
        string? key = Environment.GetEnvironmentVariable("GEOTOKEN_JUDGE_API_KEY") ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        var endpoint = parse.GetValue(_endpoint);
        if (key is null && endpoint is null) throw new CliUsageException("The judge needs an API key in GEOTOKEN_JUDGE_API_KEY or OPENAI_API_KEY (or a local --judge-endpoint).");
        var mode = parse.GetValue(_mode)!.ToLowerInvariant() switch
        {
            "pool" => MllmJudgeMode.PoolSelection,
            "free" => MllmJudgeMode.FreeGeneration,
            "rag" => MllmJudgeMode.Rag,
            var other => throw new CliUsageException($"--judge-mode {other}: use pool, free or rag."),
        };
        IChatClient client = new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(key ?? "none"), new OpenAIClientOptions
        {
            Endpoint = endpoint,
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0), // the judge retries itself
        }).AsIChatClient();
        var timeout = TimeSpan.FromSeconds(parse.GetValue(_timeout));
        if (recipe is { IsPaper: true })
        {
            if (mode == MllmJudgeMode.Rag) throw new CliUsageException("--judge-mode rag with --recipe paper: the reference has no RAG prompt; use pool or free.");
            return new FallbackReranker(new MllmJudgeReranker(client, MllmJudgeOptions.Reference(mode) with { Timeout = timeout }), new LogProbReranker());
        }

        var judge = new MllmJudgeReranker(client, new MllmJudgeOptions { Mode = mode, Timeout = timeout });
        var consensus = new ConsensusReranker();
        return new RerankerBuilder(consensus).UseFallback(consensus).UseCascade(judge, parse.GetValue(_top)).Build();
    }
}

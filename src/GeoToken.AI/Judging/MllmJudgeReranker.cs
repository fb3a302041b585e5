using GeoToken.Decoding;
using GeoToken.Reranking;
using Microsoft.Extensions.AI;

namespace GeoToken.AI.Judging;

/// <summary>
/// Reranks a candidate pool with a multimodal LLM through any <see cref="IChatClient"/>. The image is
/// attached when the query has one; the reply is constrained by a JSON schema and parsed robustly.
/// Each attempt has a timeout; failed calls and unusable answers are retried; when every attempt
/// fails a <see cref="RerankerException"/> says why (wrap in a <see cref="FallbackReranker"/> to fall
/// back to another reranker). It never invents (0, 0).
/// </summary>
public sealed class MllmJudgeReranker : IReranker
{
    private readonly IChatClient _client;
    private readonly MllmJudgeOptions _options;

    /// <summary>Creates a judge over <paramref name="client"/>.</summary>
    public MllmJudgeReranker(IChatClient client, MllmJudgeOptions? options = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? new MllmJudgeOptions();
        if (_options.MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.MaxAttempts, "MaxAttempts must be at least 1.");
        if (_options.MaxCandidates < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.MaxCandidates, "MaxCandidates must be at least 1.");
        if (_options.Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), _options.Timeout, "Timeout must be positive.");
        if (!Enum.IsDefined(_options.PromptStyle)) throw new ArgumentOutOfRangeException(nameof(options), _options.PromptStyle, "Not an MllmPromptStyle.");
        if (_options.PromptStyle == MllmPromptStyle.Reference && _options.Mode == MllmJudgeMode.Rag)
        {
            throw new ArgumentException("MllmJudgeOptions: the Reference prompt style has no Rag prompt (the reference implementation has none).", nameof(options));
        }
    }

    /// <inheritdoc/>
    public string Name => _options.Mode switch
    {
        MllmJudgeMode.PoolSelection => "judge-pool",
        MllmJudgeMode.FreeGeneration => "judge-free",
        _ => "judge-rag",
    };

    /// <inheritdoc/>
    public async Task<RerankResult> RerankAsync(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(pool);
        if (_options.Mode != MllmJudgeMode.Rag && pool.Count == 0) throw new ArgumentException("The candidate pool is empty.", nameof(pool));
        var shown = _options.Mode == MllmJudgeMode.Rag ? [] : pool.Take(_options.MaxCandidates).ToArray();
        var messages = JudgePrompt.Build(_options, query, shown);
        var numbered = JudgePrompt.Numbered(_options, shown); // the shown candidate behind each number the prompt uses
        var chatOptions = new ChatOptions
        {
            Temperature = _options.Temperature,
            ModelId = _options.ModelId,
            ResponseFormat = _options.UseJsonSchema ? JudgePrompt.Schema(_options.Mode) : ChatResponseFormat.Json,
        };

        var failures = new List<string>();
        var delay = _options.RetryDelay;
        for (int attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            if (attempt > 1 && delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            string? text;
            try
            {
                var response = await _client.GetResponseAsync(messages, chatOptions, timeout.Token).ConfigureAwait(false);
                text = response.Text;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Add($"attempt {attempt}: no reply within {_options.Timeout.TotalSeconds:0.#} s");
                continue;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add($"attempt {attempt}: {e.GetType().Name}: {e.Message}");
                continue;
            }

            var answer = JudgeAnswerParser.TryParse(text, numbered.Select(i => shown[i].Position).ToArray(), out string reason);
            if (answer is null)
            {
                failures.Add($"attempt {attempt}: {reason}");
                continue;
            }

            return Rank(answer is { Choice: { } k } ? answer with { Choice = numbered[k - 1] + 1 } : answer, pool);
        }

        throw new RerankerException($"{Name} gave no usable answer in {_options.MaxAttempts} attempt(s): {string.Join("; ", failures)}");
    }

    private RerankResult Rank(JudgeAnswer answer, IReadOnlyList<GeoCandidate> pool)
    {
        var ranked = new List<ScoredCandidate>(pool.Count + 1);
        if (answer.Choice is { } k)
        {
            ranked.Add(new ScoredCandidate(pool[k - 1], 1));
            for (int i = 0; i < pool.Count; i++)
            {
                if (i != k - 1) ranked.Add(new ScoredCandidate(pool[i], -i));
            }
        }
        else
        {
            ranked.Add(new ScoredCandidate(GeoCandidate.At(answer.Position!.Value, CandidateSources.Judge), 1));
            for (int i = 0; i < pool.Count; i++) ranked.Add(new ScoredCandidate(pool[i], -i));
        }

        return new RerankResult { Ranked = ranked, DecidedBy = Name };
    }
}

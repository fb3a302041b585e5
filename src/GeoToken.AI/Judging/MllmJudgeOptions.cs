namespace GeoToken.AI.Judging;

/// <summary>Settings of <see cref="MllmJudgeReranker"/>.</summary>
public sealed record MllmJudgeOptions
{
    /// <summary>
    /// The reference implementation's judge for <paramref name="mode"/>: <see cref="MllmPromptStyle.Reference"/> prompts over
    /// the whole pool (greedy + 30 samples at T = 0.7 by default) with no neighbors; in free generation the model is
    /// sampled at temperature 0.7 as the reference's request does, in pool selection at the server's default (the
    /// reference sets none).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="mode"/> is <see cref="MllmJudgeMode.Rag"/>, which the reference lacks.</exception>
    public static MllmJudgeOptions Reference(MllmJudgeMode mode) => mode switch
    {
        MllmJudgeMode.PoolSelection => new() { Mode = mode, PromptStyle = MllmPromptStyle.Reference, MaxCandidates = 64, SimilarNeighbors = 0, Temperature = null },
        MllmJudgeMode.FreeGeneration => new() { Mode = mode, PromptStyle = MllmPromptStyle.Reference, MaxCandidates = 64, SimilarNeighbors = 0, Temperature = 0.7f },
        _ => throw new ArgumentException($"The reference implementation has no {mode} prompt; use PoolSelection or FreeGeneration.", nameof(mode)),
    };

    /// <summary>How the prompt is worded (default <see cref="MllmPromptStyle.GeoTokenNet"/>; <see cref="MllmPromptStyle.Reference"/> follows the reference's).</summary>
    public MllmPromptStyle PromptStyle { get; init; } = MllmPromptStyle.GeoTokenNet;

    /// <summary>How the judge is asked (default <see cref="MllmJudgeMode.PoolSelection"/>).</summary>
    public MllmJudgeMode Mode { get; init; } = MllmJudgeMode.PoolSelection;

    /// <summary>At most this many candidates are shown, in pool order (default 10).</summary>
    public int MaxCandidates { get; init; } = 10;

    /// <summary>Retrieved neighbors shown as "similar images were taken at" (default 5; 0 shows none outside RAG).</summary>
    public int SimilarNeighbors { get; init; } = 5;

    /// <summary>Least similar retrieved neighbors shown as dissimilar examples in RAG mode (default 5).</summary>
    public int DissimilarNeighbors { get; init; } = 5;

    /// <summary>Attach the photo when the query has one (default true).</summary>
    public bool IncludeImage { get; init; } = true;

    /// <summary>Time allowed per attempt (default 60 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts before giving up; a failed call or an unusable answer uses one (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Delay before a retry, doubled each time (default 1 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Sampling temperature passed to the model (default 0).</summary>
    public float? Temperature { get; init; } = 0f;

    /// <summary>The model id passed in <c>ChatOptions.ModelId</c>, when the client needs one per call.</summary>
    public string? ModelId { get; init; }

    /// <summary>Ask for a JSON-schema-constrained response (default true; turn off for servers without structured output).</summary>
    public bool UseJsonSchema { get; init; } = true;
}

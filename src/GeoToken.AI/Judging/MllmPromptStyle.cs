namespace GeoToken.AI.Judging;

/// <summary>How the judge's prompt is worded and what it shows (<see cref="MllmJudgeOptions.PromptStyle"/>).</summary>
public enum MllmPromptStyle
{
    /// <summary>
    /// GeoToken.NET's prompts (default): a system message on geolocation cues, the most similar retrieved images, the merged
    /// candidates with how often each was generated and its log-probability, and a <c>reason</c>.
    /// </summary>
    GeoTokenNet,

    /// <summary>
    /// Prompts following the structure of the reference implementation's, in our own words: no system message and no
    /// retrieved neighbors. Pool selection lists every raw sample (a cell drawn k times appears k times, numbered
    /// <c>j) lat=…, lon=…</c>) and asks for the single best one or its own guess (as the reference's <c>sample_n.py</c>);
    /// free generation gives the greedy candidate as the model's best guess and the raw samples as its other guesses and
    /// insists on a location (as <c>ask_gemini_sample_neighbor.py</c>). Both still ask for the answer schema's JSON, which
    /// <see cref="JudgeAnswerParser"/> requires. Not available for <see cref="MllmJudgeMode.Rag"/> (the reference has no such prompt).
    /// </summary>
    Reference,
}

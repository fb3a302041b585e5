namespace GeoToken.Reports;

/// <summary>Settings of <see cref="EvaluationReport"/>.</summary>
public sealed record EvaluationReportOptions
{
    /// <summary>The page title.</summary>
    public string Title { get; init; } = "GeoToken evaluation";

    /// <summary>Strategies that get a world map (default: all).</summary>
    public IReadOnlyList<string>? MapStrategies { get; init; }

    /// <summary>Free-form lines shown under the title (dataset, model, settings).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

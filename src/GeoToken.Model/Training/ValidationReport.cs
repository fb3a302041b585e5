using GeoToken.Evaluation;

namespace GeoToken.Model.Training;

/// <summary>The result of validating after an epoch.</summary>
/// <param name="Epoch">The epoch just completed (0-based).</param>
/// <param name="Loss">The position-weighted teacher-forced loss on the validation rows.</param>
/// <param name="Metrics">Geolocation metrics of greedy decoding on the validation rows.</param>
public sealed record ValidationReport(int Epoch, double Loss, GeoMetrics Metrics);

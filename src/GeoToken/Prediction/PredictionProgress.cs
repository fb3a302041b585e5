namespace GeoToken.Prediction;

/// <summary>Progress of <see cref="GeoTokenPredictor.PredictAsync(IReadOnlyList{GeoQuery}, IProgress{PredictionProgress}?, CancellationToken)"/>.</summary>
/// <param name="Done">Images answered so far.</param>
/// <param name="Total">Images in the call.</param>
public readonly record struct PredictionProgress(int Done, int Total);

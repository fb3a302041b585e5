namespace GeoToken.Model.Training;

/// <summary>Progress of a <see cref="TrainingRun"/>: preparation stages, then the trainer's reports.</summary>
/// <param name="Stage">What is running: <c>neighbors</c>, <c>tokens</c>, <c>train</c> or <c>validate</c>.</param>
/// <param name="Done">Units done in this stage (queries, steps).</param>
/// <param name="Total">Units in this stage.</param>
/// <param name="Training">The trainer's report, during training.</param>
public sealed record TrainingRunProgress(string Stage, double Done, double Total, TrainingProgress? Training = null);

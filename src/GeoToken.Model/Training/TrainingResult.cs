namespace GeoToken.Model.Training;

/// <summary>What a call to <see cref="GeoTokenTrainer.Train"/> did.</summary>
/// <param name="EpochsCompleted">Epochs completed in all (resumed runs included).</param>
/// <param name="GlobalStep">Optimizer steps done in all.</param>
/// <param name="EpochMeanLosses">The mean training loss of each epoch completed by this call, in order.</param>
public sealed record TrainingResult(int EpochsCompleted, long GlobalStep, IReadOnlyList<double> EpochMeanLosses);

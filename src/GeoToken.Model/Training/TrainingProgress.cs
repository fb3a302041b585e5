namespace GeoToken.Model.Training;

/// <summary>A progress report of <see cref="GeoTokenTrainer.Train"/>.</summary>
/// <param name="Epoch">The epoch being trained (0-based).</param>
/// <param name="StepInEpoch">Optimizer steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Optimizer steps in a full epoch.</param>
/// <param name="GlobalStep">Optimizer steps done since training began (resumed runs included).</param>
/// <param name="Loss">The loss of the last step.</param>
/// <param name="EpochMeanLoss">The mean loss (weighted by batch size) of this epoch's steps so far.</param>
/// <param name="LearningRate">The learning rate of the last step.</param>
/// <param name="SamplesPerSecond">Training throughput since the previous report (examples per second).</param>
/// <param name="EpochCompleted">Whether this report closes the epoch.</param>
public sealed record TrainingProgress(
    int Epoch,
    int StepInEpoch,
    int StepsPerEpoch,
    long GlobalStep,
    double Loss,
    double EpochMeanLoss,
    double LearningRate,
    double SamplesPerSecond,
    bool EpochCompleted)
{
    /// <summary>Set on the report that carries a validation result (its loss fields are NaN).</summary>
    public ValidationReport? Validation { get; init; }
}

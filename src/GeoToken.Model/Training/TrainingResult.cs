namespace GeoToken.Model.Training;

/// <summary>What a call to <see cref="GeoTokenTrainer.Train"/> did.</summary>
/// <param name="EpochsCompleted">Epochs completed in all (resumed runs included).</param>
/// <param name="GlobalStep">Optimizer steps done in all.</param>
/// <param name="EpochMeanLosses">The mean training loss of each epoch completed by this call, in order.</param>
public sealed record TrainingResult(int EpochsCompleted, long GlobalStep, IReadOnlyList<double> EpochMeanLosses)
{
    /// <summary>The validation after each epoch (and after a time-limited stop), when a validator was given.</summary>
    public IReadOnlyList<ValidationReport> Validations { get; init; } = [];

    /// <summary>Whether <see cref="GeoTokenTrainerOptions.MaxDuration"/> stopped training before the last epoch ended (the checkpoint can resume it).</summary>
    public bool StoppedByTimeLimit { get; init; }
}

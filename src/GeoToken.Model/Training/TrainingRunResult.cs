namespace GeoToken.Model.Training;

/// <summary>What a <see cref="TrainingRun"/> produced.</summary>
public sealed record TrainingRunResult
{
    /// <summary>The model written (a model folder, or a <c>.gtm</c> file), full path.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The checkpoint that can resume the run.</summary>
    public required string CheckpointPath { get; init; }

    /// <summary>The model's shape.</summary>
    public required GeoTokenModelOptions Model { get; init; }

    /// <summary>Trainable parameters.</summary>
    public required long ParameterCount { get; init; }

    /// <summary>The trainer's result (epochs, losses, validations).</summary>
    public required TrainingResult Training { get; init; }

    /// <summary>Wall-clock time of the whole run, preparation included.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Wall-clock time spent in training steps and validation.</summary>
    public required TimeSpan TrainingElapsed { get; init; }

    /// <summary>Whether the run continued from a checkpoint.</summary>
    public required bool Resumed { get; init; }
}

using GeoToken.Retrieval;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GeoToken.Model.Training;

/// <summary>What <see cref="TrainingRun"/> trains, on what, and where it writes (the <c>geotoken train</c> command's options).</summary>
public sealed record TrainingRunOptions
{
    /// <summary>The training dataset folder (also the retrieval gallery).</summary>
    public required string TrainDirectory { get; init; }

    /// <summary>A validation dataset folder, evaluated after every epoch (optional).</summary>
    public string? ValidationDirectory { get; init; }

    /// <summary>Validate on at most this many validation rows (default 2,000; null: all).</summary>
    public int? ValidationRows { get; init; } = 2000;

    /// <summary>The model to write: a model folder (<c>config.json</c> + <c>model.safetensors</c>), or one file when the path ends in <c>.gtm</c> (see <see cref="GeoTokenModelFile.Save"/>).</summary>
    public required string OutputPath { get; init; }

    /// <summary>
    /// The model: a preset's shape (see <see cref="GeoTokenModelOptions.FromPreset"/>) whose feature dimension and
    /// number of modalities are taken from the training dataset. Ignored when <see cref="Model"/> is set.
    /// </summary>
    public string Preset { get; init; } = "small";

    /// <summary>The context layout, overriding the preset's (null keeps it).</summary>
    public ContextLayout? Layout { get; init; }

    /// <summary>Whether the model has the neighbor-copy head (<see cref="GeoTokenModelOptions.NeighborCopy"/>), overriding the preset's (null keeps it).</summary>
    public bool? NeighborCopy { get; init; }

    /// <summary>An explicit model shape (overrides <see cref="Preset"/>, <see cref="Layout"/> and <see cref="NeighborCopy"/>); must match the dataset.</summary>
    public GeoTokenModelOptions? Model { get; init; }

    /// <summary>Trainer settings (epochs, batch, learning rate, seed…). The checkpoint path is set by the run.</summary>
    public GeoTokenTrainerOptions Trainer { get; init; } = new();

    /// <summary>Continue from <see cref="CheckpointPath"/> if it exists (default false starts afresh).</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Resume even when the checkpoint was trained on other data (another dataset or content, row count,
    /// neighbor count or group column) or records none (checkpoints written before it recorded its data);
    /// default false refuses, naming both. The resumed run records the new data from then on.
    /// </summary>
    public bool ResumeOnOtherData { get; init; }

    /// <summary>The training checkpoint (default: <see cref="OutputPath"/> + <c>.ckpt</c>), written every epoch.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Where and how neighbor files are computed when they do not exist yet.</summary>
    public NeighborCacheOptions Neighbors { get; init; } = new();

    /// <summary>Torch device: <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Where the run logs data, neighbor files, the model's shape and the file written (default: nowhere).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Batches assembled ahead of training (default 2).</summary>
    public int Prefetch { get; init; } = 2;
}

using System.Diagnostics;
using GeoToken.Data;
using GeoToken.Progress;
using GeoToken.Randomness;
using GeoToken.Retrieval;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace GeoToken.Model.Training;

/// <summary>
/// Trains a GeoToken model on dataset folders in one call (the <c>geotoken train</c> command): computes
/// the neighbor files when absent (training neighbors exclude the image itself), builds the token
/// tables, creates the model from a preset sized to the data (or resumes the checkpoint), trains with
/// validation after every epoch, and writes the model file atomically.
/// </summary>
public static class TrainingRun
{
    /// <summary>Runs the training (on a worker thread).</summary>
    public static Task<TrainingRunResult> RunAsync(TrainingRunOptions options, IProgress<TrainingRunProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Run(options, progress, cancellationToken), cancellationToken);

    /// <summary>Runs the training on the calling thread.</summary>
    public static TrainingRunResult Run(TrainingRunOptions options, IProgress<TrainingRunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logger = options.Logger ?? throw new ArgumentException("TrainingRunOptions.Logger is null; leave it unset for no logging.", nameof(options));
        var clock = Stopwatch.StartNew();
        string checkpoint = options.CheckpointPath ?? Path.TrimEndingDirectorySeparator(options.OutputPath) + ".ckpt";
        var device = TorchDevices.Parse(options.Device);

        using var train = GeoDataset.Open(options.TrainDirectory);
        using var validation = options.ValidationDirectory is null ? null : GeoDataset.Open(options.ValidationDirectory);
        if (validation is not null) validation.CheckCompatibleWith(train);

        bool resumed = options.Resume && File.Exists(checkpoint);
        var modelOptions = resumed ? GeoTokenModelFile.ReadOptions(checkpoint) : ModelFor(options, train);
        var data = new TrainingDataIdentity(Path.GetFullPath(options.TrainDirectory), train.ContentId, train.Rows, modelOptions.NeighborCount, options.Neighbors.GroupColumn);
        if (resumed && !options.ResumeOnOtherData) RequireSameData(checkpoint, data);
        logger.LogInformation("Training on {Train} ({Rows} rows){Resume}: {Layers} encoder / {DecoderLayers} decoder layers of {Dimension}, k = {K}",
            options.TrainDirectory, train.Rows, resumed ? $", resuming {checkpoint}" : "", modelOptions.EncoderLayers, modelOptions.DecoderLayers, modelOptions.ModelDimension, modelOptions.NeighborCount);

        var neighborProgress = progress.Map((SearchProgress p) => new TrainingRunProgress("neighbors", p.QueriesDone, p.QueryCount));
        string trainPrefix = NeighborCache.Ensure(train, train, modelOptions.NeighborCount, options.Neighbors, neighborProgress, cancellationToken);
        string? validationPrefix = validation is null ? null
            : NeighborCache.Ensure(validation, train, modelOptions.NeighborCount, options.Neighbors, neighborProgress, cancellationToken);
        logger.LogInformation("Training neighbors: {Prefix}{Validation}", trainPrefix, validationPrefix is null ? "" : $"; validation neighbors: {validationPrefix}");

        progress?.Report(new("tokens", 0, train.Rows));
        var tokenizer = new Tokens.GeoTokenizer(modelOptions.Tokenizer);
        var trainTokens = TokenTable.Build(train, tokenizer, cancellationToken);
        var validationTokens = validation is null ? null : TokenTable.Build(validation, tokenizer, cancellationToken);
        progress?.Report(new("tokens", train.Rows, train.Rows));

        using var trainNeighbors = NeighborFile.Open(trainPrefix);
        using var validationNeighbors = validationPrefix is null ? null : NeighborFile.Open(validationPrefix);
        var source = new DatasetBatchSource(train, train, trainNeighbors, trainTokens, trainTokens, modelOptions, new DatasetBatchSourceOptions { Prefetch = options.Prefetch });
        var validator = validation is null ? null : new GreedyValidator(
            new DatasetBatchSource(validation, train, validationNeighbors!, trainTokens, validationTokens!, modelOptions, new DatasetBatchSourceOptions { Prefetch = options.Prefetch, MaxRows = options.ValidationRows }),
            options.Trainer.BatchSize);

        var trainerOptions = options.Trainer with { CheckpointPath = checkpoint };
        using var trainer = resumed
            ? GeoTokenTrainer.Resume(checkpoint, trainerOptions, device)
            : new GeoTokenTrainer(NewModel(modelOptions, device, trainerOptions.Seed), trainerOptions);
        trainer.Data = data;
        using var model = trainer.Model;
        var trainingClock = Stopwatch.StartNew();
        var trainProgress = progress.Map((TrainingProgress t) =>
            new TrainingRunProgress(t.Validation is null ? "train" : "validate", t.GlobalStep, (double)t.StepsPerEpoch * trainerOptions.Epochs, t));
        logger.LogInformation("Training {Parameters} parameters in batches of {BatchSize} for up to {Epochs} epochs", model.ParameterCount, trainerOptions.BatchSize, trainerOptions.Epochs);
        var result = trainer.Train(source, trainProgress, cancellationToken, validator);
        GeoTokenModelFile.Save(model, options.OutputPath);
        logger.LogInformation("Wrote the model {OutputPath} after {Steps} steps in {Elapsed}", options.OutputPath, result.GlobalStep, clock.Elapsed);
        return new TrainingRunResult
        {
            ModelPath = Path.GetFullPath(options.OutputPath),
            CheckpointPath = Path.GetFullPath(checkpoint),
            Model = modelOptions,
            ParameterCount = model.ParameterCount,
            Training = result,
            Elapsed = clock.Elapsed,
            TrainingElapsed = trainingClock.Elapsed,
            Resumed = resumed,
        };
    }

    private static void RequireSameData(string checkpoint, TrainingDataIdentity data)
    {
        var stored = GeoTokenTrainer.ReadDataIdentity(checkpoint);
        if (stored is null)
        {
            throw new InvalidOperationException(
                $"The checkpoint {checkpoint} does not record what it was trained on (it predates that record), so resuming it on {data} cannot be checked. Resume anyway (--resume-anyway, TrainingRunOptions.ResumeOnOtherData) if it was trained on this data, or start afresh without --resume.");
        }

        if (!stored.SameDataAs(data))
        {
            throw new InvalidOperationException(
                $"The checkpoint {checkpoint} was trained on {stored}, not on {data}. Resume on the data it was trained on, start afresh without --resume, or resume anyway (--resume-anyway, TrainingRunOptions.ResumeOnOtherData).");
        }
    }

    /// <summary>The preset (or explicit shape) with the dataset's feature dimension and modalities.</summary>
    public static GeoTokenModelOptions ModelFor(TrainingRunOptions options, GeoDataset train)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        if (options.Model is { } explicitShape)
        {
            if (explicitShape.FeatureDimension != train.Dimension)
            {
                throw new ArgumentException($"The model reads {explicitShape.FeatureDimension}-d features but {options.TrainDirectory} holds {train.Dimension}-d ones.");
            }

            return explicitShape;
        }

        int modalities = 0;
        while (modalities < FeatureModalities.All.Count && train.Has(FeatureModalities.All[modalities])) modalities++;
        var preset = GeoTokenModelOptions.FromPreset(options.Preset);
        return preset with
        {
            FeatureDimension = train.Dimension,
            ModalityCount = Math.Min(preset.ModalityCount, modalities),
            ContextLayout = options.Layout ?? preset.ContextLayout,
            NeighborCopy = options.NeighborCopy ?? preset.NeighborCopy,
        };
    }

    /// <summary>A model initialised from <paramref name="seed"/> (the trainer's seed, mixed so that initialisation and dropout draw different streams): the same seed gives the same weights.</summary>
    private static GeoTokenModel NewModel(GeoTokenModelOptions options, torch.Device device, ulong seed)
    {
        torch.random.manual_seed(unchecked((long)SplitMix64.Mix(seed, 0x1417)));
        var model = new GeoTokenModel(options);
        if (device.type != DeviceType.CPU) model.to(device);
        return model;
    }
}

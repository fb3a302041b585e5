using System.Diagnostics;
using GeoToken.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

// Epochs: the shuffled passes over a batch source, validation, progress.
public sealed partial class GeoTokenTrainer
{
    /// <summary>
    /// Trains until <see cref="GeoTokenTrainerOptions.Epochs"/> epochs are complete (continuing a resumed
    /// run mid-epoch where it stopped). Writes checkpoints as configured; on cancellation writes one (when
    /// a checkpoint path is set) and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="source">The training examples.</param>
    /// <param name="progress">Receives a report every <see cref="GeoTokenTrainerOptions.ProgressEverySteps"/> steps and at each epoch's end.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <param name="validator">Evaluates the model after every epoch (and when a time limit stops training); its reports go to <paramref name="progress"/> and into the result.</param>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite, or the source is empty.</exception>
    public TrainingResult Train(IGeoTokenBatchSource source, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, ITrainingValidator? validator = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(source);
        int count = source.Count;
        int stepsPerEpoch = StepsPerEpoch(count);
        if (stepsPerEpoch < 1)
        {
            throw new InvalidOperationException($"The batch source has {count} rows, not enough for one step of {Options.EffectiveBatchSize} (BatchSize {Options.BatchSize} × GradientAccumulationSteps {Options.GradientAccumulationSteps}; DropLastPartialBatch is {Options.DropLastPartialBatch}).");
        }

        if (StepInEpoch > stepsPerEpoch)
        {
            throw new InvalidOperationException($"The trainer is at step {StepInEpoch} of epoch {Epoch}, but the source ({count} rows) gives only {stepsPerEpoch} steps per epoch; is it the same data set?");
        }

        var losses = new List<double>();
        var validations = new List<ValidationReport>();
        var budget = Stopwatch.StartNew();
        bool outOfTime = false;
        while (Epoch < Options.Epochs && !outOfTime)
        {
            int[] order = SplitMix64.EpochOrder(Options.Seed, Epoch, count);
            int e = Options.EffectiveBatchSize;
            int usable = Options.DropLastPartialBatch ? stepsPerEpoch * e : count;
            var remaining = new ReadOnlyMemory<int>(order, StepInEpoch * e, usable - StepInEpoch * e);
            var clock = Stopwatch.StartNew();
            long windowSamples = 0;
            double lastLoss = double.NaN;
            var pending = new List<GeoTokenBatch>(Options.GradientAccumulationSteps);
            int pendingRows = 0;
            try
            {
            foreach (var batch in source.ReadBatches(remaining, Options.BatchSize, cancellationToken))
            {
                // An optimizer step takes the next EffectiveBatchSize rows (fewer at the end of the epoch) in batches of BatchSize.
                pending.Add(batch);
                pendingRows += batch.Count;
                if (pendingRows < Math.Min(e, usable - StepInEpoch * e)) continue;
                try
                {
                    if (cancellationToken.IsCancellationRequested) break;
                    lastLoss = TrainStep(pending);
                    StepInEpoch++;
                    _epochLossSum += lastLoss * pendingRows;
                    _epochSamples += pendingRows;
                    windowSamples += pendingRows;
                }
                finally
                {
                    foreach (var b in pending) b.Dispose();
                    pending.Clear();
                    pendingRows = 0;
                }

                bool epochDone = StepInEpoch == stepsPerEpoch;
                if (!epochDone && StepInEpoch % Options.ProgressEverySteps == 0)
                {
                    Report(progress, stepsPerEpoch, lastLoss, windowSamples / clock.Elapsed.TotalSeconds, epochCompleted: false);
                    windowSamples = 0;
                    clock.Restart();
                }

                if (!epochDone && Options.CheckpointPath is not null && Options.CheckpointEverySteps > 0 && StepInEpoch % Options.CheckpointEverySteps == 0)
                {
                    SaveCheckpoint(Options.CheckpointPath);
                }

                if (cancellationToken.IsCancellationRequested) break;
                if (Options.MaxDuration is TimeSpan limit && budget.Elapsed >= limit && !epochDone)
                {
                    outOfTime = true;
                    break;
                }
            }
            }
            finally
            {
                foreach (var b in pending) b.Dispose(); // read, but not a whole step (cancelled, or a short source)
            }

            if (cancellationToken.IsCancellationRequested)
            {
                if (Options.CheckpointPath is not null) SaveCheckpoint(Options.CheckpointPath);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (outOfTime)
            {
                // Stopped by MaxDuration mid-epoch: checkpoint where we are (resumable) and validate.
                Report(progress, stepsPerEpoch, lastLoss, windowSamples / clock.Elapsed.TotalSeconds, epochCompleted: false);
                if (validator is not null) validations.Add(RunValidation(validator, progress, stepsPerEpoch, cancellationToken));
                if (Options.CheckpointPath is not null) SaveCheckpoint(Options.CheckpointPath);
                break;
            }

            if (StepInEpoch != stepsPerEpoch)
            {
                throw new InvalidOperationException($"The batch source yielded {StepInEpoch} batches in epoch {Epoch}; {stepsPerEpoch} were expected.");
            }

            double mean = _epochSamples > 0 ? _epochLossSum / _epochSamples : double.NaN;
            Report(progress, stepsPerEpoch, lastLoss, windowSamples / clock.Elapsed.TotalSeconds, epochCompleted: true);
            losses.Add(mean);
            if (validator is not null) validations.Add(RunValidation(validator, progress, stepsPerEpoch, cancellationToken));
            Epoch++;
            StepInEpoch = 0;
            _epochLossSum = 0;
            _epochSamples = 0;
            if (Options.CheckpointPath is not null) SaveCheckpoint(Options.CheckpointPath);
        }

        return new TrainingResult(Epoch, GlobalStep, losses) { Validations = validations, StoppedByTimeLimit = outOfTime };
    }

    private ValidationReport RunValidation(ITrainingValidator validator, IProgress<TrainingProgress>? progress, int stepsPerEpoch, CancellationToken cancellationToken)
    {
        ValidationReport report;
        try
        {
            report = validator.Validate(Model, cancellationToken) with { Epoch = Epoch };
        }
        finally
        {
            Model.train();
        }

        progress?.Report(new TrainingProgress(Epoch, StepInEpoch, stepsPerEpoch, GlobalStep, double.NaN, double.NaN, CurrentLearningRate, 0, EpochCompleted: false) { Validation = report });
        return report;
    }

    private void Report(IProgress<TrainingProgress>? progress, int stepsPerEpoch, double loss, double samplesPerSecond, bool epochCompleted)
    {
        progress?.Report(new TrainingProgress(
            Epoch, StepInEpoch, stepsPerEpoch, GlobalStep, loss,
            _epochSamples > 0 ? _epochLossSum / _epochSamples : double.NaN,
            Options.LearningRateAt(Epoch, Math.Max(0, GlobalStep - 1)),
            double.IsFinite(samplesPerSecond) ? samplesPerSecond : 0,
            epochCompleted));
    }
}

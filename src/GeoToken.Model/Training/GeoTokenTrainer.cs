using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.IO;
using GeoToken.Randomness;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

/// <summary>
/// Trains a <see cref="GeoTokenModel"/> with the paper's recipe: teacher forcing, position-weighted
/// cross-entropy (<see cref="GeoTokenLoss"/>), <see cref="AdamWOptimizer"/>, per-epoch step decay of the learning
/// rate, optional linear warm-up and gradient-norm clipping. Reproducible from a seed, resumable from a
/// checkpoint after a crash or kill.
/// </summary>
/// <remarks>
/// <para>
/// Each epoch visits the rows of an <see cref="IGeoTokenBatchSource"/> in an order shuffled by the
/// trainer's own generator from <c>(Seed, epoch)</c>; a fresh trainer seeds torch's global generator
/// (which drives dropout) with <see cref="GeoTokenTrainerOptions.Seed"/>. A checkpoint holds the
/// weights, the optimizer state, the epoch, the step within it, the global step, torch's generator
/// state and the trainer options, so that resuming continues exactly where the run stopped: training
/// two epochs straight, or one epoch, checkpoint, <see cref="Resume"/> and another epoch, gives
/// identical weights. (Only the CPU generator is saved: on a GPU, resumed dropout masks differ.)
/// </para>
/// <para>
/// Every step runs inside its own <c>torch.NewDisposeScope()</c> and each batch is disposed after its
/// step, so long runs do not accumulate native memory. The trainer does not own the model: dispose the
/// model yourself (also the one <see cref="Resume"/> creates). Not thread-safe.
/// </para>
/// </remarks>
public sealed class GeoTokenTrainer : IDisposable
{
    private readonly AdamWOptimizer _optimizer;
    private readonly double[] _weights;
    private readonly GeoTokenModel? _replica; // TrainingPrecision.BFloat16: the model in bfloat16, run forward and backward
    private readonly Parameter[] _masterParameters; // in the optimizer's order
    private readonly Parameter[] _replicaParameters; // same order; empty in float32
    private double _epochLossSum;
    private long _epochSamples;
    private bool _disposed;

    /// <summary>A fresh trainer (epoch 0, step 0); seeds torch's global generator with <see cref="GeoTokenTrainerOptions.Seed"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public GeoTokenTrainer(GeoTokenModel model, GeoTokenTrainerOptions? options = null)
        : this(model, options ?? new GeoTokenTrainerOptions(), seedTorch: true)
    {
    }

    private GeoTokenTrainer(GeoTokenModel model, GeoTokenTrainerOptions options, bool seedTorch)
    {
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        Model = model;
        Options = options;
        _weights = GeoTokenLoss.PositionWeights(model.Options.SequenceLength, options.FirstPositionWeight, options.LastPositionWeight);
        _optimizer = new AdamWOptimizer(model.named_parameters(), options.WeightDecay, options.Beta1, options.Beta2, options.Epsilon)
        {
            LearningRate = options.LearningRateAt(0, 0),
        };
        if (seedTorch) random.manual_seed(unchecked((long)options.Seed));
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        _masterParameters = [.. _optimizer.ParameterNames.Select(n => named[n])];
        _replicaParameters = [];
        if (options.Precision == TrainingPrecision.BFloat16)
        {
            _replica = GeoTokenModelFile.CreateWithoutTouchingRng(model.Options);
            _replica.to(model.Device).to(ScalarType.BFloat16);
            var replicaNamed = _replica.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            _replicaParameters = [.. _optimizer.ParameterNames.Select(n => replicaNamed[n])];
        }
    }

    /// <summary>The model being trained.</summary>
    public GeoTokenModel Model { get; }

    /// <summary>The trainer's settings.</summary>
    public GeoTokenTrainerOptions Options { get; }

    /// <summary>Epochs completed (the epoch being trained, 0-based).</summary>
    public int Epoch { get; private set; }

    /// <summary>Optimizer steps done in the current epoch.</summary>
    public int StepInEpoch { get; private set; }

    /// <summary>Optimizer steps done in all.</summary>
    public long GlobalStep { get; private set; }

    /// <summary>
    /// The data the run trains on, written into every checkpoint (and restored by <see cref="Resume"/>) so that
    /// resuming on other data can be refused (<see cref="ReadDataIdentity(string)"/>); null records nothing.
    /// </summary>
    public TrainingDataIdentity? Data { get; set; }

    /// <summary>The learning rate the next step uses.</summary>
    public double CurrentLearningRate => Options.LearningRateAt(Epoch, GlobalStep);

    /// <summary>Optimizer steps per epoch for a source of <paramref name="rowCount"/> rows.</summary>
    public int StepsPerEpoch(int rowCount)
    {
        long e = Options.EffectiveBatchSize;
        return (int)(Options.DropLastPartialBatch ? rowCount / e : (rowCount + e - 1) / e);
    }

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

    /// <summary>
    /// One optimizer step on <paramref name="batch"/> (moved to the model's device; not disposed) at the
    /// current epoch's learning rate; advances <see cref="GlobalStep"/> and returns the loss.
    /// Does not advance <see cref="StepInEpoch"/> (that is <see cref="Train"/>'s bookkeeping).
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss is NaN or infinite (the weights are left unchanged).</exception>
    public double TrainStep(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return TrainStep([batch]);
    }

    /// <summary>
    /// One optimizer step on the rows of all <paramref name="batches"/> together (gradient accumulation): each batch's
    /// mean loss is weighted by its share of the rows before its backward pass, so the gradient is that of the mean loss
    /// over the concatenated batches. Batches are moved to the model's device, not disposed. Advances
    /// <see cref="GlobalStep"/> by one and returns the mean loss over all rows.
    /// </summary>
    /// <exception cref="ArgumentException">No batches.</exception>
    /// <exception cref="InvalidOperationException">A loss is NaN or infinite (the weights are left unchanged).</exception>
    public double TrainStep(IReadOnlyList<GeoTokenBatch> batches)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 0) throw new ArgumentException("TrainStep needs at least one batch.", nameof(batches));
        long total = 0;
        foreach (var b in batches) total += (b ?? throw new ArgumentException("A batch is null.", nameof(batches))).Count;
        Model.train();
        Model.zero_grad(set_to_none: true);
        var forward = _replica ?? Model;
        Tensor?[]? sums = null; // bfloat16: the gradients summed in float32
        if (_replica is not null)
        {
            using var noGrad = no_grad();
            for (int i = 0; i < _masterParameters.Length; i++) _replicaParameters[i].copy_(_masterParameters[i]);
            _replica.train();
            sums = new Tensor?[_masterParameters.Length];
        }

        try
        {
            double lossSum = 0;
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                batch.To(Model.Device);
                var logits = forward.Forward(batch);
                if (_replica is not null) logits = [.. logits.Select(l => l.to_type(ScalarType.Float32))];
                var loss = GeoTokenLoss.Compute(logits, batch.TargetTokens!, _weights);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                {
                    Model.zero_grad(set_to_none: true);
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"The training loss is {value} at epoch {Epoch}, step {StepInEpoch} (global step {GlobalStep}); the weights were not updated. Lower the learning rate, add warm-up or gradient clipping, or check the inputs for NaN."));
                }

                lossSum += value * batch.Count;
                if (batches.Count == 1) loss.backward();
                else loss.mul(batch.Count / (double)total).backward();
                if (sums is not null) AccumulateReplicaGradients(sums);
            }

            if (Options.MaxGradientNorm is double maxNorm)
            {
                if (sums is null) nn.utils.clip_grad_norm_(Model.parameters(), maxNorm);
                else ClipGradientNorm(sums, maxNorm);
            }

            _optimizer.LearningRate = Options.LearningRateAt(Epoch, GlobalStep);
            if (sums is null) _optimizer.Step();
            else _optimizer.Step(i => sums[i]);
            GlobalStep++;
            return lossSum / total;
        }
        finally
        {
            if (sums is not null)
            {
                foreach (var t in sums) t?.Dispose();
            }
        }
    }

    /// <summary>Adds the replica's bfloat16 gradients, in float32, to <paramref name="sums"/>, and clears the replica's.</summary>
    private void AccumulateReplicaGradients(Tensor?[] sums)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < sums.Length; i++)
        {
            var g = _replicaParameters[i].grad;
            if (g is null) continue;
            if (sums[i] is null) sums[i] = g.to_type(ScalarType.Float32).DetachFromDisposeScope();
            else sums[i]!.add_(g.to_type(ScalarType.Float32));
        }

        _replica!.zero_grad(set_to_none: true);
    }

    /// <summary>Scales <paramref name="grads"/> so that their global L2 norm is at most <paramref name="maxNorm"/> (as <c>clip_grad_norm_</c>).</summary>
    private static void ClipGradientNorm(Tensor?[] grads, double maxNorm)
    {
        using var scope = NewDisposeScope();
        double sq = 0;
        foreach (var g in grads)
        {
            if (g is not null) sq += g.to_type(ScalarType.Float64).square().sum().item<double>();
        }

        double coef = maxNorm / (Math.Sqrt(sq) + 1e-6);
        if (coef >= 1) return;
        using var c = coef.ToScalar();
        foreach (var g in grads) g?.mul_(c);
    }

    /// <summary>
    /// Writes a training checkpoint (atomically): the model file contents plus optimizer state, epoch,
    /// step, global step, running epoch loss, torch's generator state and the trainer options.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var scope = NewDisposeScope();
        var header = GeoTokenModelFile.CreateHeader(Model, GeoTokenModelFile.KindCheckpoint);
        header["training"] = new JsonObject
        {
            ["epoch"] = Epoch,
            ["stepInEpoch"] = StepInEpoch,
            ["globalStep"] = GlobalStep,
            ["epochLossSum"] = _epochLossSum,
            ["epochSamples"] = _epochSamples,
            ["options"] = JsonSerializer.SerializeToNode(Options, GeoTokenModelFile.Json),
        };
        if (Data is not null) header["training"]!["data"] = JsonSerializer.SerializeToNode(Data, GeoTokenModelFile.Json);
        var tensors = GeoTokenModelFile.ModelTensors(Model);
        tensors.AddRange(_optimizer.StateTensors().Select(t => (OptimizerPrefix + t.Name, t.Tensor)));
        tensors.Add((TorchRngName, random.get_rng_state()));
        TensorFile.Write(path, header, tensors);
    }

    /// <summary>
    /// Restores a run from a checkpoint: the model (built from the stored options, on the CPU, then moved
    /// to <paramref name="device"/>), the optimizer, the counters and torch's generator state.
    /// </summary>
    /// <param name="path">A checkpoint written by <see cref="SaveCheckpoint"/>.</param>
    /// <param name="options">
    /// Trainer options to continue with (e.g. more <see cref="GeoTokenTrainerOptions.Epochs"/>); null keeps
    /// the stored ones. Resuming in the middle of an epoch requires the same batch size, seed and
    /// last-batch policy.
    /// </param>
    /// <param name="device">Where to put the model (CPU when null).</param>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, has another format version, is corrupt, or the options conflict with a mid-epoch resume.</exception>
    public static GeoTokenTrainer Resume(string path, GeoTokenTrainerOptions? options = null, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var contents = TensorFile.ReadHeader(path);
        if ((string?)contents.Header["kind"] != GeoTokenModelFile.KindCheckpoint)
        {
            throw new InvalidDataException($"'{path}' is a GeoToken file of kind '{contents.Header["kind"]}', not a training checkpoint.");
        }

        var modelOptions = GeoTokenModelFile.ReadOptions(contents);
        var training = contents.Header["training"]?.AsObject() ?? throw new InvalidDataException($"'{path}' has no training section.");
        GeoTokenTrainerOptions stored;
        int epoch, stepInEpoch;
        long globalStep, epochSamples;
        double epochLossSum;
        try
        {
            stored = training["options"].Deserialize<GeoTokenTrainerOptions>(GeoTokenModelFile.Json) ?? throw new InvalidDataException($"'{path}' has no trainer options.");
            epoch = (int)training["epoch"]!;
            stepInEpoch = (int)training["stepInEpoch"]!;
            globalStep = (long)training["globalStep"]!;
            epochLossSum = (double)training["epochLossSum"]!;
            epochSamples = (long)training["epochSamples"]!;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidDataException($"'{path}' has a malformed training section: {e.Message}", e);
        }

        var chosen = options ?? stored;
        if (stepInEpoch > 0 && (chosen.BatchSize != stored.BatchSize || chosen.GradientAccumulationSteps != stored.GradientAccumulationSteps || chosen.Seed != stored.Seed || chosen.DropLastPartialBatch != stored.DropLastPartialBatch))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{path}' stopped in the middle of epoch {epoch} (step {stepInEpoch}) with BatchSize {stored.BatchSize}, GradientAccumulationSteps {stored.GradientAccumulationSteps}, Seed {stored.Seed}, DropLastPartialBatch {stored.DropLastPartialBatch}; resuming it needs the same values, not {chosen.BatchSize}, {chosen.GradientAccumulationSteps}, {chosen.Seed}, {chosen.DropLastPartialBatch}."));
        }

        var model = GeoTokenModelFile.CreateWithoutTouchingRng(modelOptions);
        GeoTokenTrainer? trainer = null;
        try
        {
            GeoTokenModelFile.CopyWeights(model, contents);
            if (device is not null) model.to(device);
            trainer = new GeoTokenTrainer(model, chosen, seedTorch: false);
            var names = trainer._optimizer.StateNames().Select(n => OptimizerPrefix + n).Append(TorchRngName).ToList();
            var missing = names.Where(n => !contents.Tensors.ContainsKey(n)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidDataException($"'{path}' lacks optimizer or generator state: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? " …" : "")}.");
            }

            var state = TensorFile.ReadTensors(contents, names);
            try
            {
                trainer._optimizer.LoadState(state.ToDictionary(kv => kv.Key[(kv.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal) ? OptimizerPrefix.Length : 0)..], kv => kv.Value), path);
                random.set_rng_state(state[TorchRngName]);
            }
            finally
            {
                foreach (var t in state.Values) t.Dispose();
            }

            trainer.Data = ReadDataIdentity(path, training);
            trainer.Epoch = epoch;
            trainer.StepInEpoch = stepInEpoch;
            trainer.GlobalStep = globalStep;
            trainer._epochLossSum = epochLossSum;
            trainer._epochSamples = epochSamples;
            return trainer;
        }
        catch
        {
            trainer?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The data a checkpoint was trained on (<see cref="Data"/> when it was saved), or null for a checkpoint
    /// that records none (written by a version before 2026-12 or by a trainer without <see cref="Data"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint or its record is malformed.</exception>
    public static TrainingDataIdentity? ReadDataIdentity(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var header = TensorFile.ReadHeader(path).Header;
        if ((string?)header["kind"] != GeoTokenModelFile.KindCheckpoint)
        {
            throw new InvalidDataException($"'{path}' is a GeoToken file of kind '{header["kind"]}', not a training checkpoint.");
        }

        return ReadDataIdentity(path, header["training"]?.AsObject());
    }

    private static TrainingDataIdentity? ReadDataIdentity(string path, JsonObject? training)
    {
        if (training?["data"] is not { } node) return null;
        try
        {
            return node.Deserialize<TrainingDataIdentity>(GeoTokenModelFile.Json) ?? throw new InvalidDataException($"'{path}' has an empty training data record.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"'{path}' has a malformed training data record: {e.Message}", e);
        }
    }

    /// <summary>Releases the optimizer state and the bfloat16 replica (not the model).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _optimizer.Dispose();
        _replica?.Dispose();
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

    private const string OptimizerPrefix = "optimizer.";
    private const string TorchRngName = "rng.torch";
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

// Checkpoints: save, resume, and the training data identity they record.
public sealed partial class GeoTokenTrainer
{
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

    private const string OptimizerPrefix = "optimizer.";
    private const string TorchRngName = "rng.torch";
}

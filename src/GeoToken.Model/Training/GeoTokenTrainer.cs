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
public sealed partial class GeoTokenTrainer : IDisposable
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

    /// <summary>Releases the optimizer state and the bfloat16 replica (not the model).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _optimizer.Dispose();
        _replica?.Dispose();
    }
}

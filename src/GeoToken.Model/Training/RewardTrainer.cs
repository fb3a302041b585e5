using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Reranking;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model.Training;

/// <summary>
/// Fine-tunes a <see cref="RewardHead"/> on the candidate pools a frozen GeoToken model samples for training
/// images: each candidate is labelled by whether it lies within the head's threshold of its own image's true
/// position, and decoded against that image's own memory (query and neighbors). With
/// <see cref="RewardTrainingOptions.FineTuneModel"/> (the reference's recipe) a copy of the whole transformer is trained
/// with the head and becomes its <see cref="RewardHead.ScorerModel"/>.
/// </summary>
public static class RewardTrainer
{
    /// <summary>Trains <paramref name="head"/> in place; <paramref name="model"/> is left unchanged (evaluation mode).</summary>
    /// <param name="model">The trained GeoToken model (frozen).</param>
    /// <param name="head">The head to train (on the model's device).</param>
    /// <param name="source">Training rows with their neighbors (the true positions come from its query dataset).</param>
    /// <param name="options">Epochs, batch size, pool and optimizer settings.</param>
    /// <param name="progress">Receives a report every <see cref="RewardTrainingOptions.ProgressEverySteps"/> steps.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="ArgumentException">The options are invalid or the head does not fit the model.</exception>
    public static RewardTrainingResult Train(GeoTokenModel model, RewardHead head, DatasetBatchSource source, RewardTrainingOptions? options = null,
        IProgress<RewardTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(source);
        options ??= new RewardTrainingOptions();
        options.Validate();
        if (head.ModelDimension != model.Options.ModelDimension)
        {
            throw new ArgumentException($"The reward head reads {head.ModelDimension}-d states but the model's are {model.Options.ModelDimension}-d.", nameof(head));
        }

        model.eval();
        if (options.FineTuneModel && head.ScorerModel is null) head.AttachScorer(CopyOf(model));
        var scorer = options.FineTuneModel ? head.ScorerModel : null;
        head.train();
        scorer?.eval(); // fine-tuned without dropout, as the reference (its transformer stays in evaluation mode)
        bool twoBins = head.Output == RewardHeadOutput.TwoBins;
        var builder = new CandidatePoolBuilder(model, options.Pool with { Seed = options.Seed });
        // The project's AdamW (PyTorch's update rule, betas 0.9/0.999, ε 1e-8) over every head parameter, the fine-tuned
        // scorer's included; the learning rate decays by LearningRateDecay after every epoch (PyTorch's StepLR(1, γ)).
        using var optimizer = new AdamWOptimizer(head.named_parameters(), options.WeightDecay) { LearningRate = options.LearningRate };
        var rng = new Random(unchecked((int)options.Seed));
        int rows = Math.Min(source.Count, options.MaxRows ?? int.MaxValue);
        int stepsPerEpoch = (rows + options.BatchSize - 1) / options.BatchSize;
        var epochLosses = new List<double>();
        var epochAccuracies = new List<double>();
        long steps = 0, candidates = 0, positives = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, source.Count).ToArray();
            rng.Shuffle(order);
            order = order[..rows];
            double lossSum = 0, correct = 0, seen = 0, windowLoss = 0, windowCorrect = 0, windowSeen = 0, windowPositive = 0;
            int step = 0, offset = 0, windowSteps = 0;
            foreach (var batch in source.ReadBatches(order, options.BatchSize, cancellationToken))
            {
                using (batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int b = batch.Count;
                    var batchRows = order.AsSpan(offset, b).ToArray();
                    offset += b;
                    batch.To(model.Device);
                    var keys = batchRows.Select(r => (long)epoch * source.Count + r).ToArray();
                    using var encoded = model.EncodeBatch(batch);
                    var pools = builder.Build(encoded, keys, cancellationToken);
                    var truth = batchRows.Select(r => source.Queries.GetLocation(r)).ToArray();
                    double l, right;
                    float[] labels;
                    int pos;
                    // Zeroed in place, not set to none (as an optimizer's zero_grad): a parameter keeps taking decayed,
                    // moment-driven steps in a batch whose loss does not reach it.
                    head.zero_grad(set_to_none: false);
                    using (var scope = NewDisposeScope())
                    {
                        var (states, index) = scorer is null ? RewardHead.CandidateStates(encoded, pools) : StatesWithGradient(scorer, batch, pools);
                        step++;
                        if (index.Length == 0) continue;
                        labels = head.Labels(pools, index, truth, strict: twoBins);
                        pos = labels.Count(x => x > 0.5f);
                        var y = tensor(labels, device: model.Device);

                        // Per-candidate losses, weighted: the rarer class up (ClassBalanced; near candidates are rare for a
                        // weak model) and each cell by its draws (WeightBySampleCount).
                        Tensor perRow = twoBins
                            ? F.cross_entropy(head.BinLogits(states), y.lt(0.5f).to_type(ScalarType.Int64), reduction: nn.Reduction.None)
                            : y * F.softplus(-head.forward(states)) + (1 - y) * F.softplus(head.forward(states));
                        var weights = ones_like(y);
                        if (options.ClassBalanced)
                        {
                            double posWeight = pos == 0 ? 1 : Math.Clamp((labels.Length - pos) / (double)pos, 1, 50);
                            weights = y * (posWeight - 1) + 1;
                        }

                        if (options.WeightBySampleCount)
                        {
                            weights = weights * tensor(index.Select(r => (float)pools[r.Image][r.Candidate].Count).ToArray(), device: model.Device);
                        }

                        var loss = (weights * perRow).sum() / weights.sum();
                        loss.backward();
                        l = loss.item<float>();
                        right = head.forward(states).gt(0).eq(y.gt(0.5f)).sum().item<long>();
                    }

                    // Outside the dispose scope: the optimizer's state tensors must outlive the step.
                    optimizer.Step();
                    steps++;

                    lossSum += l * labels.Length;
                    correct += right;
                    seen += labels.Length;
                    candidates += labels.Length;
                    positives += pos;
                    windowLoss += l;
                    windowCorrect += right;
                    windowSeen += labels.Length;
                    windowPositive += pos;
                    windowSteps++;
                    if (step % options.ProgressEverySteps == 0 || step == stepsPerEpoch)
                    {
                        progress?.Report(new RewardTrainingProgress(epoch, step, stepsPerEpoch, windowLoss / windowSteps, windowCorrect / windowSeen, windowPositive / windowSeen));
                        windowLoss = windowCorrect = windowSeen = windowPositive = 0;
                        windowSteps = 0;
                    }
                }
            }

            optimizer.LearningRate *= options.LearningRateDecay;
            epochLosses.Add(seen > 0 ? lossSum / seen : double.NaN);
            epochAccuracies.Add(seen > 0 ? correct / seen : double.NaN);
        }

        head.eval();
        return new RewardTrainingResult(steps, candidates, epochLosses, epochAccuracies, candidates > 0 ? (double)positives / candidates : double.NaN);
    }

    /// <summary>A copy of <paramref name="model"/> (same options and weights, same device), without touching torch's generator.</summary>
    private static GeoTokenModel CopyOf(GeoTokenModel model)
    {
        var copy = GeoTokenModelFile.CreateWithoutTouchingRng(model.Options);
        try
        {
            copy.to(model.Device);
            using var noGrad = no_grad();
            var source = model.state_dict();
            foreach (var (name, tensor) in copy.state_dict()) tensor.copy_(source[name]);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>The final decoder states of every model-generated candidate, computed by <paramref name="scorer"/> with autograd.</summary>
    private static (Tensor States, (int Image, int Candidate)[] Rows) StatesWithGradient(GeoTokenModel scorer, GeoTokenBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools)
    {
        int t = scorer.Options.SequenceLength;
        var (rows, images, tokens) = RewardHead.CandidateRows(t, pools);
        if (rows.Length == 0) return (zeros([0, scorer.Options.ModelDimension]), rows);
        using var scope = NewDisposeScope();
        var imageOfRow = tensor(images, device: scorer.Device);
        var sequence = tensor(tokens, [rows.Length, t], device: scorer.Device);
        return (scorer.TeacherForcedStates(batch, imageOfRow, sequence).select(1, t).MoveToOuterDisposeScope(), rows);
    }
}

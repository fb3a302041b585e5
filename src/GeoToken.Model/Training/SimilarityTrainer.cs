using System.Diagnostics;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Randomness;
using GeoToken.Reranking;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model.Training;

/// <summary>
/// Trains a <see cref="SimilarityModel"/> contrastively on the (image feature, location) pairs of a dataset:
/// symmetric InfoNCE over each batch (every image against every location of the batch, and back) with the
/// model's learned temperature, AdamW; or, with <see cref="SimilarityTrainingOptions.GpsQueueSize"/>, GeoCLIP's loss:
/// each image against its batch's locations and a queue of past locations, image to location only.
/// </summary>
/// <remarks>
/// Rows are visited in an order shuffled per epoch from <see cref="SimilarityTrainingOptions.Seed"/>; each
/// batch's features are read from the dataset's memory-mapped feature file and its locations from the
/// dataset, so memory use does not grow with the dataset. A trailing partial batch is dropped (too few
/// negatives). Every step runs in its own dispose scope. Training does not checkpoint: save the model with
/// <see cref="SimilarityModelFile.Save"/> afterwards.
/// </remarks>
public static class SimilarityTrainer
{
    /// <summary>Trains <paramref name="model"/> on <paramref name="dataset"/> (in place) and returns a summary.</summary>
    /// <param name="model">The model to train (its feature dimension must match the dataset's modality).</param>
    /// <param name="dataset">The training pairs: each row's features and location.</param>
    /// <param name="options">Training settings (null: defaults).</param>
    /// <param name="progress">Receives a report every <see cref="SimilarityTrainingOptions.ProgressEverySteps"/> steps and at each epoch's end.</param>
    /// <param name="cancellationToken">Checked between steps; cancelling throws <see cref="OperationCanceledException"/> (the model keeps the steps done).</param>
    /// <exception cref="ArgumentException">The options are invalid, or the dataset does not fit the model or has fewer rows than a batch.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    public static SimilarityTrainingResult Train(SimilarityModel model, GeoDataset dataset, SimilarityTrainingOptions? options = null,
        IProgress<SimilarityTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new SimilarityTrainingOptions();
        options.Validate();
        var features = dataset.GetFeatures(options.Modality);
        if (features.Columns != model.Options.FeatureDimension)
        {
            throw new ArgumentException($"{dataset.MetaPath}: {options.Modality} features are {features.Columns}-d but the model reads {model.Options.FeatureDimension}-d features.", nameof(dataset));
        }

        if (dataset.Rows < options.BatchSize)
        {
            throw new ArgumentException($"{dataset.MetaPath} has {dataset.Rows} rows, fewer than one batch of {options.BatchSize}.", nameof(dataset));
        }

        if (dataset.Rows > int.MaxValue) throw new ArgumentException($"{dataset.MetaPath} has {dataset.Rows} rows; at most {int.MaxValue} are supported.", nameof(dataset));
        int rows = (int)dataset.Rows, b = options.BatchSize, d = features.Columns;
        int stepsPerEpoch = rows / b;
        dataset.LoadLocations();

        using var optimizer = new AdamWOptimizer(model.named_parameters(), options.WeightDecay) { LearningRate = options.LearningRate };
        var featureBuffer = new float[b * d];
        var positions = new LatLng[b];
        var rowIndices = new long[b];
        var noise = new SplitMix64(SplitMix64.Mix(options.Seed, 0x4015EUL));
        var queue = options.GpsQueueSize > 0 ? new GpsQueue(options.GpsQueueSize, SplitMix64.Mix(options.Seed, 0x9E0E0EUL)) : null;
        var losses = new List<double>();
        long steps = 0;
        int columns = 0;
        model.train();
        try
        {
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                int[] order = SplitMix64.EpochOrder(options.Seed, epoch, rows);
                double epochSum = 0, windowSum = 0;
                int windowSteps = 0;
                var clock = Stopwatch.StartNew();
                for (int step = 0; step < stepsPerEpoch; step++)
                {
                    cancellationToken.ThrowIfCancellationRequested();

                    // Sorted rows read the memory map in file order; the pairing of rows is what matters.
                    for (int i = 0; i < b; i++) rowIndices[i] = order[step * b + i];
                    Array.Sort(rowIndices);
                    features.GatherRows(rowIndices, featureBuffer);
                    for (int i = 0; i < b; i++) positions[i] = Jitter(dataset.GetLocation(rowIndices[i]), options.LocationNoiseKm, ref noise);

                    double loss = Step(model, optimizer, featureBuffer, positions, queue, d, out columns);
                    queue?.Enqueue(positions);
                    if (!double.IsFinite(loss))
                    {
                        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                            $"The contrastive loss is {loss} at epoch {epoch}, step {step}; lower the learning rate or check the features for NaN."));
                    }

                    steps++;
                    epochSum += loss;
                    windowSum += loss;
                    windowSteps++;
                    bool last = step == stepsPerEpoch - 1;
                    if (last || (step + 1) % options.ProgressEverySteps == 0)
                    {
                        progress?.Report(new SimilarityTrainingProgress(epoch, step + 1, stepsPerEpoch, windowSum / windowSteps, model.Temperature,
                            windowSteps * b / clock.Elapsed.TotalSeconds, last));
                        windowSum = 0;
                        windowSteps = 0;
                        clock.Restart();
                    }
                }

                losses.Add(epochSum / stepsPerEpoch);
            }
        }
        finally
        {
            model.eval();
        }

        return new SimilarityTrainingResult(options.Epochs, steps, losses, model.Temperature, columns);
    }

    /// <summary>
    /// The image-to-location logits <c>[B, B + Q]</c> of a batch: every image's embedding against the batch's
    /// locations (row i matches column i) and then the queue's, times the model's logit scale.
    /// </summary>
    internal static Tensor ContrastiveLogits(SimilarityModel model, Tensor features, Tensor batchLocations, Tensor? queueLocations = null)
    {
        using var scope = NewDisposeScope();
        var img = model.EmbedImages(features);
        var loc = model.EmbedLocations(queueLocations is null ? batchLocations : cat([batchLocations, queueLocations], 0));
        return (img.matmul(loc.t()) * model.LogitScale()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The contrastive loss of logits from <see cref="ContrastiveLogits"/>: the symmetric InfoNCE when the logits are
    /// square (no queue), else GeoCLIP's image-to-location cross-entropy over all columns.
    /// </summary>
    internal static Tensor ContrastiveLoss(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var target = arange(logits.shape[0], dtype: ScalarType.Int64, device: logits.device);
        var loss = logits.shape[0] == logits.shape[1]
            ? (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
            : F.cross_entropy(logits, target);
        return loss.MoveToOuterDisposeScope();
    }

    private static double Step(SimilarityModel model, AdamWOptimizer optimizer, float[] featureBuffer, LatLng[] positions, GpsQueue? queue, int d, out int columns)
    {
        using var scope = NewDisposeScope();
        int b = positions.Length;
        var x = tensor(featureBuffer, [b, d], device: model.Device);
        var logits = ContrastiveLogits(model, x, model.LocationInputs(positions), queue is null ? null : model.LocationInputs(queue.Items));
        columns = (int)logits.shape[1];
        var loss = ContrastiveLoss(logits);
        double value = loss.item<float>();
        if (!double.IsFinite(value)) return value;
        model.zero_grad(set_to_none: true);
        loss.backward();
        optimizer.Step();
        return value;
    }

    /// <summary>The position moved by isotropic Gaussian noise of <paramref name="sigmaKm"/> (none when 0).</summary>
    private static LatLng Jitter(LatLng p, double sigmaKm, ref SplitMix64 rng)
    {
        if (sigmaKm == 0) return p;
        double dNorth = rng.NextGaussian() * sigmaKm, dEast = rng.NextGaussian() * sigmaKm;
        double lat = p.Latitude + dNorth / Geodesy.EarthRadiusKm * 180 / Math.PI;
        double cos = Math.Max(1e-6, Math.Cos(p.Latitude * Math.PI / 180));
        double lng = p.Longitude + dEast / (Geodesy.EarthRadiusKm * cos) * 180 / Math.PI;
        lat = Math.Clamp(lat, -90, 90); // noise, not data: clamping a jittered training point at the pole is harmless
        lng = ((lng + 180) % 360 + 360) % 360 - 180;
        return new LatLng(lat, lng);
    }
}

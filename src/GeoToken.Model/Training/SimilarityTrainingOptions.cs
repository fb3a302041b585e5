using System.Globalization;
using GeoToken.Data;
using GeoToken.Reranking;

namespace GeoToken.Model.Training;

/// <summary>How <see cref="SimilarityTrainer"/> trains a <see cref="SimilarityModel"/>.</summary>
public sealed record SimilarityTrainingOptions
{
    /// <summary>Passes over the dataset (default 10).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>(image, location) pairs per step; the other pairs of a batch are the negatives (default 512).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>AdamW learning rate (default 3e-4).</summary>
    public double LearningRate { get; init; } = 3e-4;

    /// <summary>AdamW decoupled weight decay (default 1e-6).</summary>
    public double WeightDecay { get; init; } = 1e-6;

    /// <summary>
    /// Standard deviation in km of Gaussian noise added to each training location (default 0: none). GeoCLIP
    /// jitters its training GPS slightly so nearby photos do not pull on exactly one point.
    /// </summary>
    public double LocationNoiseKm { get; init; }

    /// <summary>
    /// Past training coordinates kept as extra negatives (GeoCLIP's dynamic queue; GeoCLIP uses 4,096), or 0 for
    /// none (default). With a queue each step scores every image against its batch's B locations and the queue's
    /// locations (B + queue columns) and, as GeoCLIP, uses the image-to-location cross-entropy only; without one
    /// the loss is the symmetric InfoNCE over the batch. See <see cref="GpsQueue"/>.
    /// </summary>
    public int GpsQueueSize { get; init; }

    /// <summary>Which feature view is the image feature (default <see cref="FeatureModality.Image"/>).</summary>
    public FeatureModality Modality { get; init; } = FeatureModality.Image;

    /// <summary>Seed of the row order and the noise (default 1). The same seed, data and options give the same weights.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Report progress every this many steps (default 50), and at each epoch's end.</summary>
    public int ProgressEverySteps { get; init; } = 50;

    /// <summary>Throws unless every setting is usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(Epochs >= 1, $"SimilarityTrainingOptions.Epochs is {Epochs}; it must be at least 1.");
        Require(BatchSize >= 2, $"SimilarityTrainingOptions.BatchSize is {BatchSize}; contrastive training needs at least 2 pairs per batch.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), string.Create(CultureInfo.InvariantCulture, $"SimilarityTrainingOptions.LearningRate is {LearningRate}; it must be positive."));
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), string.Create(CultureInfo.InvariantCulture, $"SimilarityTrainingOptions.WeightDecay is {WeightDecay}; it must be ≥ 0."));
        Require(LocationNoiseKm >= 0 && double.IsFinite(LocationNoiseKm), string.Create(CultureInfo.InvariantCulture, $"SimilarityTrainingOptions.LocationNoiseKm is {LocationNoiseKm}; it must be ≥ 0."));
        Require(GpsQueueSize >= 0, $"SimilarityTrainingOptions.GpsQueueSize is {GpsQueueSize}; it must be ≥ 0 (0: no queue).");
        Require(ProgressEverySteps >= 1, $"SimilarityTrainingOptions.ProgressEverySteps is {ProgressEverySteps}; it must be at least 1.");
    }
}

/// <summary>A progress report of <see cref="SimilarityTrainer.Train"/>.</summary>
/// <param name="Epoch">The epoch being trained (0-based).</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Steps in a full epoch.</param>
/// <param name="Loss">The mean loss of the steps since the previous report.</param>
/// <param name="Temperature">The model's current softmax temperature.</param>
/// <param name="PairsPerSecond">Training throughput since the previous report.</param>
/// <param name="EpochCompleted">Whether this report closes the epoch.</param>
public sealed record SimilarityTrainingProgress(int Epoch, int Step, int StepsPerEpoch, double Loss, double Temperature, double PairsPerSecond, bool EpochCompleted);

/// <summary>What <see cref="SimilarityTrainer.Train"/> did.</summary>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="Steps">Optimizer steps in all.</param>
/// <param name="EpochLosses">The mean loss of each epoch.</param>
/// <param name="Temperature">The learned temperature at the end.</param>
/// <param name="LocationsPerStep">The columns of each step's image-to-location logits: the batch size plus the GPS queue's size.</param>
public sealed record SimilarityTrainingResult(int Epochs, long Steps, IReadOnlyList<double> EpochLosses, double Temperature, int LocationsPerStep);

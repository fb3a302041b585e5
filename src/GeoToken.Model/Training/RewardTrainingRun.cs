using GeoToken.Data;
using GeoToken.Model;
using GeoToken.Progress;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using TorchSharp;

namespace GeoToken.Model.Training;

/// <summary>
/// Trains a reward head for a model on a dataset folder, end to end (the <c>geotoken reward</c> command): the
/// training rows' neighbors are found (or read from the neighbor cache), pools are sampled and labelled, the
/// head is trained and written atomically.
/// </summary>
public static class RewardTrainingRun
{
    /// <summary>Runs the training and writes <paramref name="outputPath"/>.</summary>
    /// <param name="modelPath">The trained GeoToken model.</param>
    /// <param name="trainDirectory">The model's training dataset (also its retrieval gallery).</param>
    /// <param name="outputPath">The reward head file to write.</param>
    /// <param name="options">Training settings.</param>
    /// <param name="neighbors">Where neighbor files are cached and how they are computed.</param>
    /// <param name="device">Torch device (cpu, cuda, cuda:N).</param>
    /// <param name="progress">Stage reports: <c>neighbors</c>, then <c>reward</c> steps with the latest training report.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static Task<RewardTrainingResult> RunAsync(string modelPath, string trainDirectory, string outputPath, RewardTrainingOptions? options = null,
        NeighborCacheOptions? neighbors = null, string device = "cpu", IProgress<(string Stage, double Done, double Total, RewardTrainingProgress? Report)>? progress = null,
        CancellationToken cancellationToken = default) => Task.Run(() =>
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        options ??= new RewardTrainingOptions();
        using var model = GeoTokenModelFile.Load(modelPath, TorchDevices.Parse(device));
        using var train = GeoDataset.Open(trainDirectory);
        string prefix = NeighborCache.Ensure(train, train, model.Options.NeighborCount, neighbors ?? new NeighborCacheOptions(),
            progress.Map((SearchProgress p) => ("neighbors", (double)p.QueriesDone, (double)p.QueryCount, (RewardTrainingProgress?)null)), cancellationToken);
        using var neighborFile = NeighborFile.Open(prefix);
        var tokens = TokenTable.Build(train, model.Tokenizer, cancellationToken);
        var source = new DatasetBatchSource(train, train, neighborFile, tokens, tokens, model.Options);
        using var head = new RewardHead(model.Options.ModelDimension, 200, options.HiddenDimension ?? model.Options.ModelDimension, options.Output);
        head.to(model.Device);
        var result = RewardTrainer.Train(model, head, source, options,
            progress.Map((RewardTrainingProgress r) => ("reward", (double)(r.Epoch * r.StepsPerEpoch + r.Step), (double)(r.StepsPerEpoch * options.Epochs), (RewardTrainingProgress?)r)),
            cancellationToken);
        RewardHeadFile.Save(head, outputPath);
        return result;
    }, cancellationToken);
}

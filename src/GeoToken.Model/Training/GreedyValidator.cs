using GeoToken.Decoding;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

/// <summary>
/// Validates with the teacher-forced loss and with greedy KV-cached decoding on a
/// <see cref="DatasetBatchSource"/> of held-out rows (in row order), reporting the standard metrics.
/// </summary>
public sealed class GreedyValidator(DatasetBatchSource source, int batchSize = 256) : ITrainingValidator
{
    private readonly DatasetBatchSource _source = source ?? throw new ArgumentNullException(nameof(source));
    private readonly int _batchSize = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be positive.");

    /// <inheritdoc/>
    public ValidationReport Validate(GeoTokenModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.eval();
        var weights = GeoTokenLoss.PositionWeights(model.Options.SequenceLength);
        var search = new GeoTokenSearch(model);
        var order = Enumerable.Range(0, _source.Count).ToArray();
        var distances = new double[order.Length];
        double lossSum = 0;
        int done = 0;
        using var noGrad = no_grad();
        foreach (var batch in _source.ReadBatches(order, _batchSize, cancellationToken))
        {
            using (batch)
            using (NewDisposeScope())
            {
                batch.To(model.Device);
                int b = batch.Count;
                lossSum += GeoTokenLoss.Compute(model.Forward(batch), batch.TargetTokens!, weights).item<float>() * b;
                var greedy = search.Greedy(batch, cancellationToken: cancellationToken);
                for (int i = 0; i < b; i++)
                {
                    distances[done + i] = Geodesy.HaversineKm(greedy[i].Position, _source.Queries.GetLocation(done + i));
                }

                done += b;
            }
        }

        return new ValidationReport(-1, lossSum / order.Length, GeoMetrics.FromDistances(distances));
    }
}

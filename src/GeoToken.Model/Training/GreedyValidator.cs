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
        var tokenizer = model.Tokenizer;
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
                var tokens = GreedyTokens(model, batch);
                var row = new int[tokens.GetLength(1)];
                for (int i = 0; i < b; i++)
                {
                    for (int p = 0; p < row.Length; p++) row[p] = tokens[i, p];
                    var predicted = tokenizer.DecodeCenter(row);
                    distances[done + i] = Geodesy.HaversineKm(predicted, _source.Queries.GetLocation(done + i));
                }

                done += b;
            }
        }

        return new ValidationReport(-1, lossSum / order.Length, GeoMetrics.FromDistances(distances));
    }

    /// <summary>Greedy decoding of a batch: the argmax token at every position, [B, T].</summary>
    internal static int[,] GreedyTokens(GeoTokenModel model, GeoTokenBatch batch)
    {
        using var scope = NewDisposeScope();
        using var cache = model.BeginDecoding(batch);
        var chosen = new List<Tensor>();
        Tensor? previous = null;
        while (!cache.IsComplete)
        {
            previous = cache.Step(previous).argmax(-1);
            chosen.Add(previous);
        }

        var all = stack(chosen, 1).to(ScalarType.Int32).cpu();
        int b = (int)all.shape[0], t = (int)all.shape[1];
        var data = all.data<int>().ToArray();
        var result = new int[b, t];
        Buffer.BlockCopy(data, 0, result, 0, data.Length * sizeof(int));
        return result;
    }
}

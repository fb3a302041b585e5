// Shared by samples/OnnxConsumer and samples/PackageConsumer (linked into both): greedy decoding of one query on an
// exported model (GeoToken.Onnx), with the neighbors' features and tokens as the model's context.
using GeoToken.Data;
using GeoToken.Onnx.Inference;
using GeoToken.Tokens;

/// <summary>Greedy decoding of one dataset row on ONNX Runtime.</summary>
internal static class OnnxGreedy
{
    /// <summary>
    /// Decodes query row <paramref name="row"/> of <paramref name="queries"/> greedily (the most likely token at every
    /// position, the first on ties), with gallery rows <paramref name="neighbors"/> (best first) as its context.
    /// <paramref name="logSumExp"/> receives, per position, the log of the summed probabilities of the step's
    /// log-probability row (0 for a normalised distribution).
    /// </summary>
    public static int[] Decode(OnnxGeoTokenModel model, GeoDataset gallery, GeoDataset queries, long row, ReadOnlySpan<long> neighbors, out double[] logSumExp)
    {
        var shape = model.Config.Model;
        var tokenizer = new GeoTokenizer(shape.Tokenizer);
        int m = shape.ModalityCount, d = shape.FeatureDimension, k = shape.NeighborCount, t = model.SequenceLength;
        if (neighbors.Length < k) throw new ArgumentException($"The model reads {k} neighbors; {neighbors.Length} were given for query row {row}.", nameof(neighbors));
        var query = new float[m * d];
        var context = new float[k * m * d];
        var contextTokens = new long[k * t];
        var neighborTokens = new int[t];
        for (int mod = 0; mod < m; mod++)
        {
            queries.GetFeatures((FeatureModality)mod).ReadRow(row, query.AsSpan(mod * d, d));
            for (int j = 0; j < k; j++) gallery.GetFeatures((FeatureModality)mod).ReadRow(neighbors[j], context.AsSpan((j * m + mod) * d, d));
        }

        for (int j = 0; j < k; j++)
        {
            gallery.GetTokens(neighbors[j], tokenizer, neighborTokens);
            for (int p = 0; p < t; p++) contextTokens[j * t + p] = neighborTokens[p];
        }

        var tokens = new int[t];
        logSumExp = new double[t];
        using var state = model.Encode(query, context, contextTokens, batch: 1);
        long[] previous = [];
        for (int p = 0; p < t; p++)
        {
            var logProbs = model.Step(state, previous);
            int best = 0;
            double sum = 0;
            for (int v = 0; v < logProbs.GetLength(1); v++)
            {
                if (logProbs[0, v] > logProbs[0, best]) best = v;
                sum += Math.Exp(logProbs[0, v]);
            }

            tokens[p] = best;
            logSumExp[p] = Math.Log(sum);
            previous = [best];
        }

        return tokens;
    }
}

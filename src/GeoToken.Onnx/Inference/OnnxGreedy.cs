namespace GeoToken.Onnx.Inference;

/// <summary>
/// Greedy decoding on an <see cref="OnnxGeoTokenModel"/> (the most likely token at every position, first on ties), for
/// tests and benchmarks until the decoding algorithms move onto the runtime.
/// </summary>
internal static class OnnxGreedy
{
    /// <summary>Decodes every row of a fresh state to the end: tokens <c>[rows][T]</c>.</summary>
    public static int[][] Decode(OnnxGeoTokenModel model, OnnxDecodingState state)
    {
        int t = model.SequenceLength;
        var tokens = new int[state.Rows][];
        for (int r = 0; r < tokens.Length; r++) tokens[r] = new int[t];
        long[] previous = [];
        for (int p = 0; p < t; p++)
        {
            var logProbs = model.Step(state, previous);
            previous = new long[tokens.Length];
            for (int r = 0; r < tokens.Length; r++)
            {
                int best = 0;
                for (int v = 1; v < logProbs.GetLength(1); v++)
                {
                    if (logProbs[r, v] > logProbs[r, best]) best = v;
                }

                tokens[r][p] = best;
                previous[r] = best;
            }
        }

        return tokens;
    }
}

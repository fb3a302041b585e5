namespace GeoToken.Decoding;

/// <summary><c>log_softmax(scores · scale)</c> of one row, in double precision.</summary>
internal static class LogSoftmax
{
    /// <summary>Writes <c>log_softmax(scores · scale)</c> into <paramref name="result"/> (scale 1/T scores under the tempered distribution).</summary>
    public static void Compute(ReadOnlySpan<float> scores, double[] result, double scale)
    {
        double max = double.NegativeInfinity;
        foreach (float x in scores) max = Math.Max(max, x * scale);
        double sum = 0;
        foreach (float x in scores) sum += Math.Exp(x * scale - max);
        double lse = max + Math.Log(sum);
        for (int k = 0; k < scores.Length; k++) result[k] = scores[k] * scale - lse;
    }
}

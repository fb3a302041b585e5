using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>The fixed sinusoidal positional encodings of "Attention is all you need" (sine on even, cosine on odd dimensions).</summary>
internal static class SinusoidalPositions
{
    /// <summary>A [<paramref name="length"/>, <paramref name="dModel"/>] float32 table.</summary>
    public static Tensor Table(int length, int dModel)
    {
        var data = new float[length * dModel];
        for (int pos = 0; pos < length; pos++)
        {
            for (int i = 0; i < dModel; i += 2)
            {
                // Same frequencies as PyTorch's tutorial implementation: exp(-ln(10000)·i/d).
                double freq = Math.Exp(i * (-Math.Log(10000.0) / dModel));
                data[pos * dModel + i] = (float)Math.Sin(pos * freq);
                if (i + 1 < dModel) data[pos * dModel + i + 1] = (float)Math.Cos(pos * freq);
            }
        }

        return tensor(data, [length, dModel]);
    }
}

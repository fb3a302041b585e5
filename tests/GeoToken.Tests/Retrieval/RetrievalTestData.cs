using GeoToken.Data;

namespace GeoToken.Tests.Retrieval;

/// <summary>Small synthetic galleries for the retrieval tests.</summary>
internal static class RetrievalTestData
{
    /// <summary>Writes a dataset folder of <paramref name="image"/>'s rows (dimension <paramref name="d"/>) at made-up locations.</summary>
    public static void WriteDataset(string folder, float[] image, int d)
    {
        int rows = image.Length / d;
        using var writer = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions { ImageDimension = d });
        for (int r = 0; r < rows; r++) writer.WriteRow($"img{r}", new GeoToken.Geometry.LatLng(r % 90, r % 180), image.AsSpan(r * d, d));
        writer.Commit();
    }

    /// <summary>Uniform random vectors (not normalised) in [-1, 1).</summary>
    public static float[] Random(int rows, int d, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * d];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }

    /// <summary>
    /// A Gaussian mixture on the sphere: <paramref name="centres"/> random unit centres (drawn from
    /// <paramref name="seed"/>), each row a centre plus isotropic noise of a per-centre spread,
    /// unit-normalised. Rows are drawn from <paramref name="sampleSeed"/> (default: the model seed), so
    /// queries of the same mixture are <c>Clustered(n, d, centres, seed, sampleSeed: other)</c>.
    /// </summary>
    public static float[] Clustered(int rows, int d, int centres, int seed, float minSpread = 0.3f, float maxSpread = 0.8f, int? sampleSeed = null)
    {
        var rng = new Random(seed);
        var c = new float[centres * d];
        var spread = new float[centres];
        for (int j = 0; j < centres; j++)
        {
            double norm = 0;
            for (int p = 0; p < d; p++)
            {
                c[j * d + p] = (float)Gaussian(rng);
                norm += c[j * d + p] * c[j * d + p];
            }

            for (int p = 0; p < d; p++) c[j * d + p] /= (float)Math.Sqrt(norm);
            spread[j] = minSpread + (maxSpread - minSpread) * rng.NextSingle();
        }

        if (sampleSeed is int other) rng = new Random(HashCode.Combine(seed, other));
        var x = new float[rows * d];
        for (int i = 0; i < rows; i++)
        {
            int j = rng.Next(centres);
            double norm = 0;
            for (int p = 0; p < d; p++)
            {
                float v = c[j * d + p] + spread[j] * (float)Gaussian(rng) / MathF.Sqrt(d);
                x[i * d + p] = v;
                norm += v * v;
            }

            for (int p = 0; p < d; p++) x[i * d + p] /= (float)Math.Sqrt(norm);
        }

        return x;
    }

    public static Half[] ToHalf(float[] x) => x.Select(v => (Half)v).ToArray();

    public static float[] FromHalf(Half[] x) => x.Select(v => (float)v).ToArray();

    /// <summary>Reference cosine similarities in double precision, sorted best first (ties: lower row first).</summary>
    public static (long Row, double Similarity)[] Reference(FeatureMatrix gallery, ReadOnlySpan<float> query, long exclude = -1)
    {
        int d = gallery.Columns;
        var g = new float[d];
        double qn = 0;
        foreach (float v in query) qn += (double)v * v;
        var all = new List<(long, double)>();
        for (long r = 0; r < gallery.Rows; r++)
        {
            if (r == exclude) continue;
            gallery.ReadRow(r, g);
            double dot = 0, gn = 0;
            for (int p = 0; p < d; p++)
            {
                dot += (double)query[p] * g[p];
                gn += (double)g[p] * g[p];
            }

            all.Add((r, dot / Math.Sqrt(qn * gn)));
        }

        return all.OrderByDescending(t => t.Item2).ThenBy(t => t.Item1).ToArray();
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

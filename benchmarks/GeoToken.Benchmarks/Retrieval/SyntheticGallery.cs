using GeoToken.Data;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>
/// In-process clustered embeddings for the BenchmarkDotNet suites, the same model as
/// benchmarks/peers/synth_gallery.py (regions → cities → places with Zipf popularity, per-place
/// isotropic noise, a shared low-rank "content" term, a global cone direction, unit rows), drawn
/// with .NET's generator (so not the same numbers as the Python files).
/// </summary>
internal static class SyntheticGallery
{
    public static float[] Generate(int rows, int d, int seed, int? modelSeed = null)
    {
        var rng = new Random(modelSeed ?? 1);
        int regions = 64, cities = Math.Max(1, rows / 250), places = Math.Max(1, rows / 10), rank = 24;
        float[] g = Unit(Gaussian(rng, d, 1f));
        var region = new float[regions][];
        for (int r = 0; r < regions; r++) region[r] = Unit(Gaussian(rng, d, 1f));
        var city = new float[cities][];
        for (int c = 0; c < cities; c++) city[c] = Unit(Add(region[rng.Next(regions)], Gaussian(rng, d, 1.0f / MathF.Sqrt(d))));
        var cityPop = Zipf(cities, 0.8, rng);
        var place = new float[places][];
        var spread = new float[places];
        for (int p = 0; p < places; p++)
        {
            var c = city[Draw(cityPop, rng)];
            var v = Unit(Add(c, Gaussian(rng, d, 0.35f / MathF.Sqrt(d))));
            for (int i = 0; i < d; i++) v[i] += 0.7f * g[i];
            place[p] = Unit(v);
            spread[p] = MathF.Exp(MathF.Log(0.4f) + (MathF.Log(0.8f) - MathF.Log(0.4f)) * rng.NextSingle());
        }

        var content = new float[rank][];
        for (int r = 0; r < rank; r++) content[r] = Unit(Gaussian(rng, d, 1f));
        var placePop = Zipf(places, 0.5, rng);

        var sampler = new Random(seed);
        var x = new float[(long)rows * d];
        for (int i = 0; i < rows; i++)
        {
            int p = Draw(placePop, sampler);
            var row = x.AsSpan(i * d, d);
            for (int k = 0; k < d; k++) row[k] = place[p][k] + spread[p] * (float)Normal(sampler) / MathF.Sqrt(d);
            for (int r = 0; r < rank; r++)
            {
                float z = 0.8f * (float)Normal(sampler) / MathF.Sqrt(rank);
                for (int k = 0; k < d; k++) row[k] += z * content[r][k];
            }

            float n = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, n, row);
        }

        return x;
    }

    public static FeatureMatrix Matrix(int rows, int d, int seed, bool half)
    {
        var x = Generate(rows, d, seed);
        return half ? FeatureMatrix.FromArray(x.Select(v => (Half)v).ToArray(), d) : FeatureMatrix.FromArray(x, d);
    }

    private static double[] Zipf(int n, double s, Random rng)
    {
        var p = Enumerable.Range(1, n).Select(i => 1 / Math.Pow(i, s)).OrderBy(_ => rng.Next()).ToArray();
        double sum = p.Sum(), acc = 0;
        for (int i = 0; i < n; i++) p[i] = acc += p[i] / sum;
        return p;
    }

    private static int Draw(double[] cumulative, Random rng)
    {
        int i = Array.BinarySearch(cumulative, rng.NextDouble());
        return Math.Min(i < 0 ? ~i : i, cumulative.Length - 1);
    }

    private static float[] Gaussian(Random rng, int d, float scale) => Enumerable.Range(0, d).Select(_ => scale * (float)Normal(rng)).ToArray();

    private static float[] Add(float[] a, float[] b) => a.Zip(b, (x, y) => x + y).ToArray();

    private static float[] Unit(float[] v)
    {
        float n = System.Numerics.Tensors.TensorPrimitives.Norm(v);
        return v.Select(x => x / n).ToArray();
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

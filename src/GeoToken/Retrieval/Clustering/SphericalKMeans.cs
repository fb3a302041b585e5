using System.Numerics.Tensors;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Spherical k-means for unit vectors (assignment by largest inner product, centroids renormalised
/// to unit length): k-means++ seeding on a subsample, mini-batch updates with per-centroid learning
/// rates 1/count (Sculley 2010), re-seeding of dead centroids, then a few full (Lloyd) iterations.
/// Assignment runs through <see cref="ExactIndex"/> with K = 1, i.e. the GEMM kernel.
/// </summary>
internal static class SphericalKMeans
{
    /// <summary>Training settings.</summary>
    public sealed record Settings(int MiniBatchSize, int Epochs, int RefinementIterations, int Threads, int SeedSampleFactor = 16);

    /// <summary>
    /// Trains k centroids on the <paramref name="n"/> unit rows of <paramref name="data"/>. Returns
    /// min(k, n) unit centroids, row-major.
    /// </summary>
    public static float[] Train(float[] data, int n, int d, int k, Settings settings, Random rng, CancellationToken cancellationToken, Action<IndexBuildStage, long, long>? progress = null)
    {
        if (n <= k) return data.AsSpan(0, n * d).ToArray();
        var centroids = Seed(data, n, d, k, settings, rng, cancellationToken, progress);
        MiniBatch(data, n, d, k, centroids, settings, rng, cancellationToken, progress);
        for (int it = 0; it < settings.RefinementIterations; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Lloyd(data, n, d, k, centroids, settings.Threads, cancellationToken);
            progress?.Invoke(IndexBuildStage.Training, it + 1, settings.RefinementIterations);
        }

        return centroids;
    }

    /// <summary>The nearest centroid of every row of <paramref name="points"/> (any length; normalised on the fly).</summary>
    public static NeighborResults Assign(FeatureMatrix points, float[] centroids, int k, int d, int threads, CancellationToken cancellationToken, IProgress<SearchProgress>? progress = null)
    {
        var ones = new float[k];
        ones.AsSpan().Fill(1f);
        using var index = ExactIndex.CreateTrusted(FeatureMatrix.FromArray(centroids.AsSpan(0, k * d).ToArray(), d), ones);
        var results = new NeighborResults();
        index.Search(points, new SearchOptions { K = 1, MaxDegreeOfParallelism = threads, QueryBatchSize = 16384 }, results, progress, cancellationToken);
        return results;
    }

    private static float[] Seed(float[] data, int n, int d, int k, Settings settings, Random rng, CancellationToken cancellationToken, Action<IndexBuildStage, long, long>? progress)
    {
        int m = (int)Math.Min(n, Math.Max((long)k * settings.SeedSampleFactor, 1024));
        int[] pool = SampleWithoutReplacement(n, m, rng);
        var centroids = new float[(long)k * d];
        var dist = new double[m];
        int first = pool[rng.Next(m)];
        data.AsSpan(first * d, d).CopyTo(centroids);
        UpdateDistances(data, d, pool, centroids.AsSpan(0, d), dist, initialize: true, settings.Threads, cancellationToken);
        for (int c = 1; c < k; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double total = 0;
            for (int i = 0; i < m; i++) total += dist[i];
            int pick;
            if (total <= 0)
            {
                pick = pool[rng.Next(m)];
            }
            else
            {
                double r = rng.NextDouble() * total, acc = 0;
                int i = 0;
                for (; i < m - 1; i++)
                {
                    acc += dist[i];
                    if (acc >= r) break;
                }

                pick = pool[i];
            }

            data.AsSpan(pick * d, d).CopyTo(centroids.AsSpan(c * d, d));
            UpdateDistances(data, d, pool, centroids.AsSpan(c * d, d), dist, initialize: false, settings.Threads, cancellationToken);
            if ((c & 63) == 0) progress?.Invoke(IndexBuildStage.Seeding, c, k);
        }

        progress?.Invoke(IndexBuildStage.Seeding, k, k);
        return centroids;
    }

    // dist[i] = min(dist[i], 1 − x·c): half the squared Euclidean distance of unit vectors.
    private static void UpdateDistances(float[] data, int d, int[] pool, ReadOnlySpan<float> centre, double[] dist, bool initialize, int threads, CancellationToken cancellationToken)
    {
        var c = centre.ToArray();
        int m = pool.Length;
        const int Chunk = 2048;
        Parallelism.For((m + Chunk - 1) / Chunk, m >= 4 * Chunk ? threads : 1, cancellationToken, ch =>
        {
            int end = (int)Math.Min(m, (ch + 1) * Chunk);
            for (int i = (int)ch * Chunk; i < end; i++)
            {
                double v = Math.Max(0, 1 - TensorPrimitives.Dot(data.AsSpan(pool[i] * d, d), c));
                dist[i] = initialize ? v : Math.Min(dist[i], v);
            }
        });
    }

    private static void MiniBatch(float[] data, int n, int d, int k, float[] centroids, Settings settings, Random rng, CancellationToken cancellationToken, Action<IndexBuildStage, long, long>? progress)
    {
        int b = Math.Min(n, settings.MiniBatchSize);
        int perEpoch = (n + b - 1) / b;
        int total = perEpoch * settings.Epochs;
        var counts = new double[k];
        var batch = new float[(long)b * d];
        var sums = new float[(long)k * d];
        var members = new int[k];
        var rows = new int[b];
        for (int it = 0; it < total; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (b == n)
            {
                for (int i = 0; i < b; i++) rows[i] = i;
            }
            else
            {
                for (int i = 0; i < b; i++) rows[i] = rng.Next(n);
            }

            for (int i = 0; i < b; i++) data.AsSpan(rows[i] * d, d).CopyTo(batch.AsSpan(i * d, d));
            var assigned = Assign(FeatureMatrix.FromArray(batch, d), centroids, k, d, settings.Threads, cancellationToken);
            Array.Clear(sums);
            Array.Clear(members);
            for (int i = 0; i < b; i++)
            {
                int c = (int)assigned.Indices[i];
                members[c]++;
                TensorPrimitives.Add(sums.AsSpan(c * d, d), batch.AsSpan(i * d, d), sums.AsSpan(c * d, d));
            }

            for (int c = 0; c < k; c++)
            {
                if (members[c] == 0) continue;
                counts[c] += members[c];
                float eta = (float)(members[c] / counts[c]);
                var centre = centroids.AsSpan(c * d, d);
                // centre ← (1 − η)·centre + η·mean
                TensorPrimitives.Multiply(centre, 1 - eta, centre);
                TensorPrimitives.MultiplyAdd(sums.AsSpan(c * d, d), eta / members[c], centre, centre);
                Normalize(centre);
            }

            if ((it + 1) % perEpoch == 0 && it + 1 < total) Reseed(batch, b, d, k, centroids, counts, assigned, rng);
            progress?.Invoke(IndexBuildStage.Training, it + 1, total);
        }
    }

    // Centroids that attracted (almost) nothing so far move to the worst-served points of the last batch.
    private static void Reseed(float[] batch, int b, int d, int k, float[] centroids, double[] counts, NeighborResults assigned, Random rng)
    {
        double mean = counts.Sum() / k;
        var dead = Enumerable.Range(0, k).Where(c => counts[c] < 0.01 * mean).ToArray();
        if (dead.Length == 0) return;
        var worst = Enumerable.Range(0, b).OrderBy(i => assigned.Similarities[i]).ThenBy(_ => rng.Next()).Take(dead.Length).ToArray();
        for (int j = 0; j < worst.Length; j++)
        {
            batch.AsSpan(worst[j] * d, d).CopyTo(centroids.AsSpan(dead[j] * d, d));
            counts[dead[j]] = 0;
        }
    }

    private static void Lloyd(float[] data, int n, int d, int k, float[] centroids, int threads, CancellationToken cancellationToken)
    {
        var assigned = Assign(FeatureMatrix.FromArray(data.Length == (long)n * d ? data : data.AsSpan(0, n * d).ToArray(), d), centroids, k, d, threads, cancellationToken);
        var sums = new float[(long)k * d];
        var members = new int[k];
        for (int i = 0; i < n; i++)
        {
            int c = (int)assigned.Indices[i];
            members[c]++;
            TensorPrimitives.Add(sums.AsSpan(c * d, d), data.AsSpan(i * d, d), sums.AsSpan(c * d, d));
        }

        // Empty clusters take the worst-served points.
        var empty = Enumerable.Range(0, k).Where(c => members[c] == 0).ToArray();
        if (empty.Length > 0)
        {
            var sims = assigned.Similarities.ToArray();
            var worst = Enumerable.Range(0, n).OrderBy(i => sims[i]).Take(empty.Length).ToArray();
            for (int j = 0; j < worst.Length; j++) data.AsSpan(worst[j] * d, d).CopyTo(sums.AsSpan(empty[j] * d, d));
        }

        for (int c = 0; c < k; c++)
        {
            var s = sums.AsSpan(c * d, d);
            if (TensorPrimitives.SumOfSquares(s) > 0)
            {
                Normalize(s);
                s.CopyTo(centroids.AsSpan(c * d, d));
            }
        }
    }

    /// <summary>Scales <paramref name="v"/> to unit length (left alone if zero).</summary>
    public static void Normalize(Span<float> v)
    {
        float norm = TensorPrimitives.Norm(v);
        if (norm > 0) TensorPrimitives.Divide(v, norm, v);
    }

    /// <summary><paramref name="m"/> distinct values of [0, <paramref name="n"/>), ascending (Floyd's algorithm).</summary>
    public static int[] SampleWithoutReplacement(long n, int m, Random rng)
    {
        if (m >= n) return Enumerable.Range(0, (int)n).ToArray();
        var chosen = new HashSet<long>(m);
        for (long j = n - m; j < n; j++)
        {
            long t = rng.NextInt64(j + 1);
            if (!chosen.Add(t)) chosen.Add(j);
        }

        var result = chosen.Select(x => (int)x).ToArray();
        Array.Sort(result);
        return result;
    }
}

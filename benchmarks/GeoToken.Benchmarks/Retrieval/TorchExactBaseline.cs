using System.Diagnostics;
using GeoToken.Data;
using GeoToken.Retrieval;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>
/// Kernel option (b): exact search with BLAS through TorchSharp (libtorch CPU): the normalised
/// gallery as one tensor, each query block multiplied with gallery blocks by <c>torch.mm</c>,
/// top-k by <c>torch.topk</c> merged across blocks. Used only to measure against the managed
/// kernel (option a); the core library has no TorchSharp dependency.
/// </summary>
internal static class TorchExactBaseline
{
    /// <summary>GFLOPS of torch.mm on [m × d] · [d × n].</summary>
    public static double MatmulGflops(int m, int n, int d, int threads, int reps = 5)
    {
        torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        var a = torch.randn(m, d);
        var b = torch.randn(n, d);
        torch.mm(a, b.t()).Dispose();
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            var clock = Stopwatch.StartNew();
            torch.mm(a, b.t()).Dispose();
            times[r] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return 2.0 * m * n * d / times[reps / 2] / 1e9;
    }

    /// <summary>Loads and normalises the gallery into a tensor (the "index").</summary>
    public static Tensor LoadGallery(FeatureMatrix gallery)
    {
        int d = gallery.Columns;
        var t = torch.empty(gallery.Rows, d, ScalarType.Float32);
        var buffer = new float[(long)65536 * d];
        for (long s = 0; s < gallery.Rows; s += 65536)
        {
            int n = (int)Math.Min(65536, gallery.Rows - s);
            gallery.ReadRows(s, n, buffer);
            using var block = torch.tensor(buffer.AsSpan(0, n * d).ToArray(), [n, d]);
            using var norm = block.norm(1, keepdim: true);
            using var unit = block.div(norm);
            t.narrow(0, s, n).copy_(unit);
        }

        return t;
    }

    /// <summary>Top-k (ids, similarities) of every query, best first.</summary>
    public static (long[] Ids, float[] Similarities) Search(Tensor gallery, FeatureMatrix queries, int k, int threads, int queryBlock = 4096, int galleryBlock = 65536)
    {
        torch.set_num_threads(threads);
        int d = queries.Columns;
        long nq = queries.Rows, ng = gallery.shape[0];
        var ids = new long[nq * k];
        var sims = new float[nq * k];
        var buffer = new float[(long)queryBlock * d];
        for (long q0 = 0; q0 < nq; q0 += queryBlock)
        {
            using var scope = torch.NewDisposeScope();
            int m = (int)Math.Min(queryBlock, nq - q0);
            queries.ReadRows(q0, m, buffer);
            var q = torch.tensor(buffer.AsSpan(0, m * d).ToArray(), [m, d]);
            q = q.div(q.norm(1, keepdim: true));
            Tensor? bestS = null, bestI = null;
            for (long g0 = 0; g0 < ng; g0 += galleryBlock)
            {
                long n = Math.Min(galleryBlock, ng - g0);
                var s = torch.mm(q, gallery.narrow(0, g0, n).t());
                var (v, i) = s.topk(k, dim: 1);
                i = i.add(g0);
                if (bestS is null)
                {
                    (bestS, bestI) = (v, i);
                }
                else
                {
                    var cv = torch.cat([bestS, v], 1);
                    var ci = torch.cat([bestI!, i], 1);
                    var (tv, ti) = cv.topk(k, dim: 1);
                    (bestS, bestI) = (tv, ci.gather(1, ti));
                }
            }

            bestS!.data<float>().CopyTo(sims, (int)(q0 * k));
            bestI!.data<long>().CopyTo(ids, (int)(q0 * k));
        }

        return (ids, sims);
    }
}

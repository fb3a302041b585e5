using GeoToken.Data;

namespace GeoToken.Retrieval;

// Build-time calibration of the default beam and leaf margin against exact search.
public sealed partial class ClusterIndex
{
    /// <summary>What build-time calibration chose, and the recall and scanned fraction it measured on the calibration queries.</summary>
    private sealed record Calibration(int[] Probes, double? LeafMargin, double Recall, double Scanned, int[] FixedProbes, double FixedRecall, double FixedScanned);

    /// <summary>
    /// Calibrates the default search on the held-out gallery rows <paramref name="picks"/> used as queries (each
    /// excluding itself) against exact search. First the narrowest fixed leaf beam (upper levels: see
    /// <see cref="ProbesForLeafBeam"/>) whose recall@K reaches <paramref name="target"/>; then, over a beam
    /// <see cref="MarginBeamFactor"/> times as wide, the smallest leaf margin reaching the target. The margin is
    /// kept when it scans fewer rows than the fixed beam.
    /// </summary>
    private Calibration Calibrate(float[] inverseNorms, int[] picks, double target, ClusterIndexOptions options, IProgress<IndexBuildProgress>? progress, CancellationToken cancellationToken)
    {
        int d = Gallery.Columns, k = options.CalibrationK;
        int n = picks.Length;
        var data = new float[(long)n * d];
        for (int i = 0; i < n; i++) Gallery.ReadRow(picks[i], data.AsSpan(i * d, d));
        var queries = FeatureMatrix.FromArray(data, d);
        var search = new SearchOptions { K = k + 1, MaxDegreeOfParallelism = options.Threads };

        progress?.Report(new IndexBuildProgress(IndexBuildStage.Calibrating, 0, 1));
        using var exact = ExactIndex.CreateTrusted(Gallery, inverseNorms);
        var truth = WithoutSelf(exact.Search(queries, search, cancellationToken), picks, k);

        int leaves = _tree.LeafCount;
        int evaluations = 0;
        (double Recall, double Scanned) Measure(int leafProbes, double? margin)
        {
            var results = Search(queries, search with { Probes = ProbesFor(leafProbes, _tree.NodeCounts), LeafMargin = margin }, cancellationToken);
            var found = WithoutSelf(results, picks, k);
            long hits = 0;
            for (int i = 0; i < n; i++)
            {
                var t = truth.AsSpan(i * k, k);
                foreach (long id in found.AsSpan(i * k, k)) hits += t.Contains(id) ? 1 : 0;
            }

            progress?.Report(new IndexBuildProgress(IndexBuildStage.Calibrating, ++evaluations, evaluations + 1));
            return (hits / (double)(n * k), results.Statistics?.ScannedFraction ?? 1.0);
        }

        // Fixed beam: doubling, then bisection to within 1/16 of the beam.
        var fixedCache = new Dictionary<int, (double Recall, double Scanned)>();
        (double Recall, double Scanned) Fixed(int p) => fixedCache.TryGetValue(p, out var known) ? known : fixedCache[p] = Measure(p, null);
        int lo = 0, hi = leaves;
        for (int p = 1; p < leaves; p *= 2)
        {
            if (Fixed(p).Recall >= target)
            {
                hi = p;
                break;
            }

            lo = p;
        }

        while (hi - lo > Math.Max(1, hi / 16))
        {
            int mid = (lo + hi) / 2;
            if (Fixed(mid).Recall >= target) hi = mid;
            else lo = mid;
        }

        var fixedResult = Fixed(hi);
        int[] fixedProbes = ProbesFor(hi, _tree.NodeCounts);
        var chosen = new Calibration(fixedProbes, null, fixedResult.Recall, fixedResult.Scanned, fixedProbes, fixedResult.Recall, fixedResult.Scanned);

        // Margin over a wider beam: bisection on the margin (recall grows with it: a wider margin scans a superset).
        int wide = Math.Min(leaves, (int)Math.Ceiling(MarginBeamFactor * hi));
        if (wide > hi)
        {
            double mlo = 0, mhi = 2; // cosine differences never exceed 2: margin 2 keeps the whole beam
            var best = Measure(wide, mhi);
            if (best.Recall >= target)
            {
                while (mhi - mlo > 0.005)
                {
                    double mid = (mlo + mhi) / 2;
                    var r = Measure(wide, mid);
                    if (r.Recall >= target) (mhi, best) = (mid, r);
                    else mlo = mid;
                }

                if (best.Scanned < fixedResult.Scanned)
                {
                    chosen = chosen with { Probes = ProbesFor(wide, _tree.NodeCounts), LeafMargin = Math.Round(mhi, 4), Recall = best.Recall, Scanned = best.Scanned };
                }
            }
        }

        progress?.Report(new IndexBuildProgress(IndexBuildStage.Calibrating, evaluations, evaluations));
        return chosen;
    }

    /// <summary>
    /// How much wider than the narrowest sufficient fixed beam the beam is that build-time calibration prunes with a
    /// leaf margin (see <see cref="SearchOptions.LeafMargin"/>).
    /// </summary>
    private const double MarginBeamFactor = 1.5;

    // K neighbors per query after dropping the query's own gallery row (or the last one if absent).
    private static long[] WithoutSelf(NeighborResults results, int[] self, int k)
    {
        var kept = new long[(long)self.Length * k];
        for (int i = 0; i < self.Length; i++)
        {
            int o = 0;
            foreach (long id in results.IndicesOf(i))
            {
                if (id == self[i] || o == k) continue;
                kept[i * k + o++] = id;
            }
        }

        return kept;
    }
}

using GeoToken.Data;

namespace GeoToken.Retrieval;

// Search: beam descent through the tree, then the kept leaves' rows against the queries that kept them.
public sealed partial class ClusterIndex
{
    private protected override void ValidateOptions(SearchOptions options)
    {
        if (options.Probes is { } p) CheckProbes(p, _tree.NodeCounts, nameof(SearchOptions.Probes));
        if (options.LeafMargin is double m && !(m >= 0)) throw new ArgumentOutOfRangeException(nameof(options), m, "SearchOptions.LeafMargin must be zero or positive (a cosine difference; null uses the index's default).");
    }

    private protected override (long Compared, long Fallback) SearchBlock(FeatureMatrix queries, long start, int count, SearchOptions options, Span<long> ids, Span<float> similarities, CancellationToken cancellationToken)
    {
        int k = options.K, threads = options.Threads;
        int[] probes = options.Probes is { } p ? [.. p] : _defaultProbes;
        double? margin = options.LeafMargin ?? (options.Probes is null ? _defaultLeafMargin : null);
        float leafMargin = margin is double value && value < 2 ? (float)value : float.PositiveInfinity;
        int parts = Math.Max(1, Math.Min(threads, count / 64));
        var idArray = new long[(long)count * k];
        var simArray = new float[(long)count * k];
        long compared = 0, fallback = 0;
        Parallelism.For(parts, threads, cancellationToken, Rent, _pool.Add, (part, w) =>
        {
            int a = (int)(count * part / parts), b = (int)(count * (part + 1) / parts);
            var (c, f) = SearchPart(w, queries, start + a, b - a, k, probes, leafMargin, options.ExcludeSelf, idArray.AsSpan(a * k, (b - a) * k), simArray.AsSpan(a * k, (b - a) * k), cancellationToken);
            Interlocked.Add(ref compared, c);
            Interlocked.Add(ref fallback, f);
        });
        idArray.CopyTo(ids);
        simArray.CopyTo(similarities);
        return (compared, fallback);
    }

    private (long Compared, long Fallback) SearchPart(Worker w, FeatureMatrix queries, long q0, int m, int k, int[] probes, float leafMargin, bool excludeSelf, Span<long> ids, Span<float> similarities, CancellationToken cancellationToken)
    {
        var ws = w.Workspace(Gallery.Columns, m);
        ws.LoadQueries(queries, q0, m);
        var all = w.AllQueries(m);

        // Level 0: every query against every top-level centroid.
        var beam = w.Beam(0, m, probes[0]);
        beam.Reset(m);
        ScanRows(ws, all, _tree.Centroids(0, 0, _tree.NodeCounts[0]), _tree.NodeCounts[0], default, 0, default, beam, cancellationToken);

        // Deeper levels: each query against the children of its beam.
        for (int level = 1; level < _tree.Levels; level++)
        {
            var next = w.Beam(level, m, probes[level]);
            next.Reset(m);
            var (groupStart, groupQueries) = w.Group(beam, m, _tree.NodeCounts[level - 1]);
            for (int u = 0; u < _tree.NodeCounts[level - 1]; u++)
            {
                int gs = groupStart[u], ge = groupStart[u + 1];
                if (gs == ge) continue;
                var (cs, ce) = _tree.Children(level - 1, u);
                if (ce == cs) continue;
                ScanRows(ws, groupQueries.AsSpan(gs, ge - gs), _tree.Centroids(level, cs, ce - cs), ce - cs, default, cs, default, next, cancellationToken);
            }

            beam = next;
        }

        // Leaves: the gallery rows of each kept leaf against the queries that kept it.
        var results = w.Results(m, k);
        results.Reset(m);
        if (excludeSelf)
        {
            for (int i = 0; i < m; i++) results.Exclude(i, q0 + i);
        }

        long compared = 0;
        // Leaf margin: each query scans only the leaves of its beam within the margin of its best leaf (and
        // always enough leaves to hold its k neighbors, so a margin never forces the exhaustive fallback).
        if (!float.IsPositiveInfinity(leafMargin))
        {
            var order = w.Order(beam.K);
            long needed = k + (excludeSelf ? 1 : 0);
            for (int i = 0; i < m; i++) beam.DropBelowBest(i, leafMargin, LeafRows, needed, order);
        }

        var (leafGroupStart, leafGroupQueries) = w.Group(beam, m, _tree.LeafCount);
        for (int leaf = 0; leaf < _tree.LeafCount; leaf++)
        {
            int gs = leafGroupStart[leaf], ge = leafGroupStart[leaf + 1];
            if (gs == ge) continue;
            compared += ScanLeaf(ws, leafGroupQueries.AsSpan(gs, ge - gs), leaf, results, cancellationToken);
        }

        // Queries whose beam reached fewer than K rows: answer exactly (scan every leaf).
        long fallback = 0;
        for (int i = 0; i < m; i++)
        {
            if (results.IsFull(i)) continue;
            fallback++;
            results.ResetOne(i);
            int[] one = [i];
            for (int leaf = 0; leaf < _tree.LeafCount; leaf++) compared += ScanLeaf(ws, one, leaf, results, cancellationToken);
        }

        for (int i = 0; i < m; i++) results.Sort(i, ids.Slice(i * k, k), similarities.Slice(i * k, k));
        return (compared, fallback);
    }

    private long LeafRows(long leaf)
    {
        var (start, end) = _tree.Leaf((int)leaf);
        return end - start;
    }

    private long ScanLeaf(ScanWorkspace ws, ReadOnlySpan<int> group, int leaf, TopKHeaps results, CancellationToken cancellationToken)
    {
        var (ls, le) = _tree.Leaf(leaf);
        int d = Gallery.Columns;
        for (long v = ls; v < le; v += ws.RowTile)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(ws.RowTile, le - v);
            switch (_tree.Stored)
            {
                case StoredVectors.Float32:
                    ws.Pack(_tree.VectorsFloat32(v, n), n);
                    break;
                case StoredVectors.Float16:
                    ws.Pack(_tree.VectorsFloat16(v, n), n);
                    break;
                default:
                    var rowIds = _tree.Ids(v, n);
                    var buffer = ws.Rows.AsSpan(0, n * d);
                    for (int r = 0; r < n; r++)
                    {
                        if (Gallery.ElementType == FeatureElementType.Float32) Gallery.GetFloat32Rows(rowIds[r], 1).CopyTo(buffer.Slice(r * d, d));
                        else HalfConversion.Convert(Gallery.GetFloat16Rows(rowIds[r], 1), buffer.Slice(r * d, d));
                    }

                    ws.Pack(buffer, n);
                    break;
            }

            MultiplyGroup(ws, group, n, _tree.InverseNorms(v, n), 0, _tree.Ids(v, n), results);
        }

        return group.Length * (le - ls);
    }

    // The queries of `group` against `n` float32 rows (chunked by the row tile).
    private static void ScanRows(ScanWorkspace ws, ReadOnlySpan<int> group, ReadOnlySpan<float> rows, int n, ReadOnlySpan<float> scale, long idBase, ReadOnlySpan<long> ids, TopKHeaps heaps, CancellationToken cancellationToken)
    {
        int d = ws.Dimension;
        for (int v = 0; v < n; v += ws.RowTile)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int c = Math.Min(ws.RowTile, n - v);
            ws.Pack(rows.Slice(v * d, c * d), c);
            MultiplyGroup(ws, group, c, scale.IsEmpty ? default : scale.Slice(v, c), idBase + v, ids.IsEmpty ? default : ids.Slice(v, c), heaps);
        }
    }

    private static void MultiplyGroup(ScanWorkspace ws, ReadOnlySpan<int> group, int n, ReadOnlySpan<float> scale, long idBase, ReadOnlySpan<long> ids, TopKHeaps heaps)
    {
        for (int t = 0; t < group.Length; t += ws.QueryTile)
        {
            int m = Math.Min(ws.QueryTile, group.Length - t);
            for (int i = 0; i < m; i++)
            {
                int q = group[t + i];
                ws.QueryRows[i] = ws.QueryAddress(q);
                ws.Slots[i] = q;
            }

            ws.MultiplyAndOffer(m, n, scale, idBase, ids, heaps, identitySlots: false);
        }
    }

    private Worker Rent() => _pool.TryTake(out var w) ? w : new Worker();
}

using System.Collections.Concurrent;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Exact (brute-force) search: every query is compared with every gallery row. Each thread takes
/// a slice of the query block; gallery rows are packed in blocks of 256 (once per slice) and
/// multiplied with the slice's query tiles of 192 by the managed AVX2/FMA micro-kernel (see
/// <see cref="NeighborIndex"/> for the similarity and ordering); top-k is kept by
/// threshold-filtered bounded heaps. With fewer query tiles than threads the gallery is split
/// into shards whose results are merged.
/// </summary>
public sealed class ExactIndex : NeighborIndex
{
    private readonly float[] _inverseNorms;
    private readonly ConcurrentBag<ScanWorkspace> _pool = [];

    private ExactIndex(FeatureMatrix gallery, float[] inverseNorms)
        : base(gallery)
    {
        _inverseNorms = inverseNorms;
    }

    /// <inheritdoc/>
    public override string Method => "exact";

    /// <summary>Queries per kernel tile (tuning; default 192, a multiple of 6).</summary>
    internal int QueryTile { get; set; } = ScanWorkspace.DefaultQueryTile;

    /// <summary>Gallery rows per packed block (tuning; default 256, a multiple of 16).</summary>
    internal int RowTile { get; set; } = ScanWorkspace.DefaultRowTile;

    /// <summary>1/‖g‖ per gallery row.</summary>
    internal ReadOnlySpan<float> InverseNorms => _inverseNorms;

    /// <summary>
    /// Prepares exact search over <paramref name="gallery"/>: one parallel pass computes every row's
    /// norm, rejecting zero, NaN and ∞ rows (<see cref="InvalidVectorException"/> names the row).
    /// </summary>
    /// <exception cref="ArgumentException">The gallery is empty.</exception>
    public static ExactIndex Create(FeatureMatrix gallery, CancellationToken cancellationToken = default) =>
        Create(gallery, Environment.ProcessorCount, cancellationToken);

    /// <summary>As <see cref="Create(FeatureMatrix, CancellationToken)"/> with a thread count.</summary>
    public static ExactIndex Create(FeatureMatrix gallery, int threads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        if (gallery.Rows == 0) throw new ArgumentException("The gallery is empty (0 rows); there is nothing to search.", nameof(gallery));
        return new ExactIndex(gallery, VectorNorms.InverseNorms(gallery, "gallery", threads, cancellationToken));
    }

    /// <summary>Exact search over rows whose inverse norms are already known (e.g. unit centroids).</summary>
    internal static ExactIndex CreateTrusted(FeatureMatrix gallery, float[] inverseNorms) => new(gallery, inverseNorms);

    private protected override (long Compared, long Fallback) SearchBlock(FeatureMatrix queries, long start, int count, SearchOptions options, Span<long> ids, Span<float> similarities, CancellationToken cancellationToken)
    {
        int k = options.K, threads = options.Threads;
        long rows = Gallery.Rows;

        // One work item per thread: a slice of the queries (scanned in tiles against each packed
        // gallery block, so a block is packed once per slice) and, when there are fewer slices of at
        // least one tile than threads, a shard of the gallery (results merged afterwards).
        int slices = Math.Max(1, Math.Min(threads, count / QueryTile));
        int shards = slices >= threads ? 1 : (int)Math.Clamp(threads / slices, 1, Math.Max(1, rows / RowTile));
        var idArray = new long[ids.Length];
        var simArray = new float[similarities.Length];
        var heaps = new TopKHeaps[slices * shards];
        Parallelism.For(
            (long)slices * shards,
            threads,
            cancellationToken,
            () => Rent((count + slices - 1) / slices),
            _pool.Add,
            (item, ws) =>
            {
                int t = (int)(item / shards), s = (int)(item % shards);
                int a = (int)((long)count * t / slices), b = (int)((long)count * (t + 1) / slices);
                long g0 = rows * s / shards, g1 = rows * (s + 1) / shards;
                var h = new TopKHeaps(b - a, k);
                Scan(ws, queries, start + a, b - a, g0, g1, h, options.ExcludeSelf, cancellationToken);
                heaps[item] = h;
            });
        for (int t = 0; t < slices; t++)
        {
            var merged = heaps[t * shards];
            for (int s = 1; s < shards; s++)
            {
                for (int i = 0; i < merged.Count; i++) merged.MergeFrom(i, heaps[t * shards + s], i);
            }

            int o = (int)((long)count * t / slices) * k;
            for (int i = 0; i < merged.Count; i++) merged.Sort(i, idArray.AsSpan(o + i * k, k), simArray.AsSpan(o + i * k, k));
        }

        idArray.AsSpan(0, count * k).CopyTo(ids);
        simArray.AsSpan(0, count * k).CopyTo(similarities);
        return ((long)count * rows, 0);
    }

    /// <summary>
    /// Scores queries [q0, q0 + m) against gallery rows [g0, g1) into <paramref name="heaps"/>
    /// (slots 0..m−1): each gallery block is packed once, then multiplied with every query tile.
    /// </summary>
    internal void Scan(ScanWorkspace ws, FeatureMatrix queries, long q0, int m, long g0, long g1, TopKHeaps heaps, bool excludeSelf, CancellationToken cancellationToken)
    {
        ws.LoadQueries(queries, q0, m);
        heaps.Reset(m);
        if (excludeSelf)
        {
            for (int i = 0; i < m; i++) heaps.Exclude(i, q0 + i);
        }

        for (long g = g0; g < g1; g += ws.RowTile)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(ws.RowTile, g1 - g);
            ws.Pack(Gallery, g, n);
            var scale = _inverseNorms.AsSpan((int)g, n);
            for (int t = 0; t < m; t += ws.QueryTile)
            {
                int mt = Math.Min(ws.QueryTile, m - t);
                for (int i = 0; i < mt; i++) ws.QueryRows[i] = ws.QueryAddress(t + i);
                ws.MultiplyAndOffer(mt, n, scale, g, default, heaps, identitySlots: true, slotBase: t);
            }
        }
    }

    private ScanWorkspace Rent(int queries)
    {
        if (_pool.TryTake(out var ws) && ws.QueryCapacity >= queries) return ws;
        return new ScanWorkspace(Gallery.Columns, queries, QueryTile, RowTile);
    }
}

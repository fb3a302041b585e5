using System.Collections.Concurrent;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Exact (brute-force) search: every query is compared with every gallery row. Queries are
/// processed in tiles of 192, gallery rows in packed blocks of 256, with the managed AVX2/FMA
/// micro-kernel (see <see cref="NeighborIndex"/> for the similarity and ordering), top-k kept by
/// threshold-filtered bounded heaps. Tiles run in parallel; with fewer query tiles than threads
/// the gallery is split into shards whose results are merged.
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
    internal int QueryTile { get; init; } = ScanWorkspace.DefaultQueryTile;

    /// <summary>Gallery rows per packed block (tuning; default 256, a multiple of 16).</summary>
    internal int RowTile { get; init; } = ScanWorkspace.DefaultRowTile;

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
        int k = options.K, threads = options.Threads, tile = QueryTile;
        long rows = Gallery.Rows;
        int tiles = (count + tile - 1) / tile;
        int shards = tiles >= threads ? 1 : (int)Math.Clamp(threads / tiles, 1, Math.Max(1, rows / RowTile));
        var idArray = new long[ids.Length];
        var simArray = new float[similarities.Length];
        TopKHeaps[]? shardHeaps = shards > 1 ? new TopKHeaps[tiles * shards] : null;
        Parallelism.For(
            (long)tiles * shards,
            threads,
            cancellationToken,
            Rent,
            _pool.Add,
            (item, ws) =>
            {
                int t = (int)(item / shards), s = (int)(item % shards);
                long q0 = start + (long)t * tile;
                int m = (int)Math.Min(tile, start + count - q0);
                long g0 = rows * s / shards, g1 = rows * (s + 1) / shards;
                var heaps = shardHeaps is null ? ws.Heaps(m, k) : new TopKHeaps(m, k);
                Scan(ws, queries, q0, m, g0, g1, heaps, options.ExcludeSelf, cancellationToken);
                if (shardHeaps is null)
                {
                    int o = (int)(q0 - start) * k;
                    for (int i = 0; i < m; i++) heaps.Sort(i, idArray.AsSpan(o + i * k, k), simArray.AsSpan(o + i * k, k));
                }
                else
                {
                    shardHeaps[item] = heaps;
                }
            });
        if (shardHeaps is not null)
        {
            for (int t = 0; t < tiles; t++)
            {
                var merged = shardHeaps[t * shards];
                for (int s = 1; s < shards; s++)
                {
                    for (int i = 0; i < merged.Count; i++) merged.MergeFrom(i, shardHeaps[t * shards + s], i);
                }

                int o = t * tile * k;
                for (int i = 0; i < merged.Count; i++) merged.Sort(i, idArray.AsSpan(o + i * k, k), simArray.AsSpan(o + i * k, k));
            }
        }

        idArray.AsSpan(0, count * k).CopyTo(ids);
        simArray.AsSpan(0, count * k).CopyTo(similarities);
        return ((long)count * rows, 0);
    }

    /// <summary>Scores queries [q0, q0 + m) against gallery rows [g0, g1) into <paramref name="heaps"/> (slots 0..m−1).</summary>
    internal void Scan(ScanWorkspace ws, FeatureMatrix queries, long q0, int m, long g0, long g1, TopKHeaps heaps, bool excludeSelf, CancellationToken cancellationToken)
    {
        ws.LoadQueries(queries, q0, m);
        for (int i = 0; i < m; i++) ws.QueryRows[i] = ws.QueryAddress(i);
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
            ws.MultiplyAndOffer(m, n, _inverseNorms.AsSpan((int)g, n), g, default, heaps, identitySlots: true);
        }
    }

    private ScanWorkspace Rent() => _pool.TryTake(out var ws) ? ws : new ScanWorkspace(Gallery.Columns, QueryTile, QueryTile, RowTile);
}

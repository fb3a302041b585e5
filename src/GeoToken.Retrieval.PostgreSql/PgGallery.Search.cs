using System.Globalization;
using Npgsql;
using Pgvector;

namespace GeoToken.Retrieval;

// Search: queries as float16 vectors, blocks of them through pgvector (exact or HNSW).
public sealed partial class PgGallery
{
    /// <summary>Searches with <see cref="SearchDefaults"/>; the request's ExcludeSelf skips gallery row r for query row r (an iterative index scan).</summary>
    /// <inheritdoc/>
    public async ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var options = SearchDefaults;
        int n = queries.QueryCount, k = queries.K;
        if (queries.Vectors.Columns != Dimension)
        {
            throw new ArgumentException($"The queries ({VectorNorms.Describe(queries.Vectors)}) have dimension {queries.Vectors.Columns} but the gallery table '{Table}' has dimension {Dimension}; search a gallery made with the same image encoder.");
        }

        // Rows only grow: the count seen last bounds K safely; each round trip re-reads it after its searches.
        long rows = GalleryRows;
        long available = rows - (queries.ExcludeSelf ? 1 : 0);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(queries), k, $"K must be at least 1 (got {k}).");
        if (k > available)
        {
            throw new ArgumentOutOfRangeException(nameof(queries), k, queries.ExcludeSelf
                ? $"K = {k} exceeds the {available} other rows of the {rows}-row gallery table '{Table}' (ExcludeSelf leaves out the query itself)."
                : $"K = {k} exceeds the {rows} rows of the gallery table '{Table}'.");
        }

        if (!options.Exact && k > 1000) throw new ArgumentOutOfRangeException(nameof(queries), k, $"K = {k}: pgvector's HNSW scans return at most 1000 rows (ef_search); use exact search.");
        if (queries.ExcludeSelf && queries.Vectors.Rows != rows)
        {
            throw new ArgumentException($"ExcludeSelf needs the query set to be the gallery (query row i = gallery row i), but there are {queries.Vectors.Rows} queries and {rows} rows in the gallery table '{Table}'.");
        }

        var vectors = ReadQueries(queries, n);
        var ids = new long[(long)n * k];
        var sims = new float[(long)n * k];
        int block = options.QueriesPerRoundTrip;
        int blocks = (n + block - 1) / block;
        await Parallel.ForEachAsync(Enumerable.Range(0, blocks), new ParallelOptions { MaxDegreeOfParallelism = options.Connections, CancellationToken = cancellationToken }, async (b, ct) =>
        {
            int first = b * block, count = Math.Min(block, n - first);
            await SearchBlockAsync(options, queries, vectors, first, count, k, rows, ids, sims, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return NeighborResults.FromArrays(k, ids, sims);
    }

    private static HalfVector[] ReadQueries(NeighborQueries queries, int n)
    {
        int d = queries.Vectors.Columns;
        var result = new HalfVector[n];
        var row = new float[d];
        for (int i = 0; i < n; i++)
        {
            long r = queries.Start + i;
            queries.Vectors.ReadRow(r, row);
            result[i] = ToHalf(row, queries.Vectors, "query", r);
        }

        return result;
    }

    private async Task SearchBlockAsync(PgSearchOptions options, NeighborQueries queries, HalfVector[] vectors, int first, int count, int k, long rows, long[] ids, float[] sims, CancellationToken cancellationToken)
    {
        bool filtered = queries.ExcludeSelf || options.RowLimit is not null;
        var where = new List<string>();
        if (queries.ExcludeSelf) where.Add("row_no <> $2");
        if (options.RowLimit is not null) where.Add("row_no < $3");
        string sql = $"SELECT row_no, f_image <=> $1 FROM {Table}{(where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where))} ORDER BY f_image <=> $1{(options.Exact ? ", row_no" : "")} LIMIT $4";

        // One round trip, no transaction: the settings are the session's, set again by every search on this connection.
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        var settings = new NpgsqlBatchCommand("SELECT set_config('hnsw.ef_search', $1, false), set_config('hnsw.iterative_scan', $2, false), set_config('enable_indexscan', $3, false)");
        settings.Parameters.AddWithValue(Math.Max(options.EfSearch, k).ToString(CultureInfo.InvariantCulture));
        settings.Parameters.AddWithValue(filtered ? options.IterativeScan : "off");
        settings.Parameters.AddWithValue(options.Exact ? "off" : "on");
        batch.BatchCommands.Add(settings);
        for (int i = 0; i < count; i++)
        {
            var cmd = new NpgsqlBatchCommand(sql);
            cmd.Parameters.Add(new NpgsqlParameter { Value = vectors[first + i], DataTypeName = "halfvec" });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = queries.Start + first + i });
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = options.RowLimit ?? rows });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = k });
            batch.BatchCommands.Add(cmd);
        }

        // Last, so that its snapshot (read committed: one per statement) includes every row the searches could see.
        if (options.RowLimit is null) batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT coalesce(max(row_no) + 1, 0) FROM {Table}"));

        var found = new List<(long Row, float Similarity)>(k);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            for (int i = 0; i < count; i++)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                found.Clear();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add((reader.GetInt64(0), (float)(1 - reader.GetDouble(1))));
                }

                long queryRow = queries.Start + first + i;
                if (found.Count != k)
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"The {Method} search of gallery table '{Table}' returned {found.Count} of K = {k} neighbors for query row {queryRow + 1} (index {queryRow}); with filtered searches use PgSearchOptions.IterativeScan strict_order or relaxed_order, or raise EfSearch."));
                }

                // Equal similarities: lower row first (the index orders by distance only).
                found.Sort((a, b) => a.Similarity != b.Similarity ? b.Similarity.CompareTo(a.Similarity) : a.Row.CompareTo(b.Row));
                long at = (long)(first + i) * k;
                for (int j = 0; j < k; j++)
                {
                    ids[at + j] = found[j].Row;
                    sims[at + j] = found[j].Similarity;
                }
            }

            if (options.RowLimit is null)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                UpdateRows(reader.GetInt64(0));
            }
        }
    }
}

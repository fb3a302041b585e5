using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using Npgsql;
using Pgvector;

namespace GeoToken.Retrieval;

// Search: neighbors by HNSW or exact scan, with or without their rows, retried once after a lost connection.
public sealed partial class PgGallery
{
    /// <summary>Searches with <see cref="SearchDefaults"/>; the request's ExcludeSelf skips gallery row r for query row r (an iterative index scan).</summary>
    /// <inheritdoc/>
    public async ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default) =>
        (await SearchCoreAsync(queries, null, cancellationToken).ConfigureAwait(false)).Results;

    /// <summary>
    /// Searches as <see cref="SearchAsync"/> and reads each neighbor's coordinates, tokens and first <paramref name="views"/>
    /// feature views (image, location, text; float16 in the table, returned as float) from the rows found, in the same round trip.
    /// </summary>
    /// <inheritdoc/>
    public async ValueTask<NeighborRows> SearchRowsAsync(NeighborQueries queries, int views, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(views, 0);
        var columns = new string[views];
        for (int v = 0; v < views; v++)
        {
            var view = v < FeatureModalities.All.Count ? FeatureModalities.All[v] : throw new ArgumentOutOfRangeException(nameof(views), views, $"There are {FeatureModalities.All.Count} feature views (image, location, text).");
            if (!Info.Views.Contains(view))
            {
                throw new ArgumentException($"The gallery table '{Table}' stores the views {string.Join(", ", Info.Views)}; {views} view(s) were asked for, including {view}.", nameof(views));
            }

            columns[v] = PgGallerySchema.Column(view);
        }

        var (results, content) = await SearchCoreAsync(queries, columns, cancellationToken).ConfigureAwait(false);
        return NeighborRows.FromArrays(results, views, Dimension, Tokenizer.Length, content!.Locations, content.Tokens, content.Features);
    }

    /// <summary>The rows' content read with a search: per neighbor (query-major) coordinates, tokens and views.</summary>
    private sealed record RowContent(LatLng[] Locations, short[] Tokens, float[] Features);

    private async ValueTask<(NeighborResults Results, RowContent? Content)> SearchCoreAsync(NeighborQueries queries, string[]? columns, CancellationToken cancellationToken)
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
        var content = columns is null ? null : new RowContent(new LatLng[(long)n * k], new short[(long)n * k * Tokenizer.Length], new float[(long)n * k * columns.Length * Dimension]);
        int block = options.QueriesPerRoundTrip;
        int blocks = (n + block - 1) / block;
        await Parallel.ForEachAsync(Enumerable.Range(0, blocks), new ParallelOptions { MaxDegreeOfParallelism = options.Connections, CancellationToken = cancellationToken }, async (b, ct) =>
        {
            int first = b * block, count = Math.Min(block, n - first);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await SearchBlockAsync(options, queries, vectors, first, count, k, rows, ids, sims, columns, content, ct).ConfigureAwait(false);
                    break;
                }
                catch (NpgsqlException e) when (attempt == 1 && IsConnectionLost(e) && !ct.IsCancellationRequested)
                {
                    // The server restarted or dropped the connection: the pool's idle connections are dead too. Discard
                    // them and search once more (a search writes nothing, so repeating it is safe).
                    _dataSource.Clear();
                }
            }
        }).ConfigureAwait(false);
        return (NeighborResults.FromArrays(k, ids, sims), content);
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


    private async Task SearchBlockAsync(PgSearchOptions options, NeighborQueries queries, HalfVector[] vectors, int first, int count, int k, long rows, long[] ids, float[] sims, string[]? columns, RowContent? content, CancellationToken cancellationToken)
    {
        string extra = columns is null ? "" : ", lat, lon, tokens" + string.Concat(columns.Select(c => ", " + c));
        bool filtered = queries.ExcludeSelf || options.RowLimit is not null;
        var where = new List<string>();
        if (queries.ExcludeSelf) where.Add("row_no <> $2");
        if (options.RowLimit is not null) where.Add("row_no < $3");
        string sql = $"SELECT row_no, f_image <=> $1{extra} FROM {Table}{(where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where))} ORDER BY f_image <=> $1{(options.Exact ? ", row_no" : "")} LIMIT $4";

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

        var found = new List<Hit>(k);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            for (int i = 0; i < count; i++)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                found.Clear();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    found.Add(columns is null ? new Hit(reader.GetInt64(0), (float)(1 - reader.GetDouble(1)), null) : ReadHit(reader, columns));
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
                    if (content is not null) found[j].Content!.CopyTo(content, at + j, Dimension);
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

    /// <summary>
    /// Whether <paramref name="e"/> means the connection is gone (the server shut down, restarted or is unreachable) rather
    /// than that the statement failed; such errors empty the pool (<see cref="NpgsqlDataSource.Clear"/>).
    /// </summary>
    internal static bool IsConnectionLost(NpgsqlException e) =>
        e is PostgresException p ? p.SqlState is "57P01" or "57P02" or "57P03" || p.SqlState.StartsWith("08", StringComparison.Ordinal) : e.IsTransient || e.InnerException is IOException or System.Net.Sockets.SocketException;

    /// <summary>A row found by a search, with its content when asked for.</summary>
    private readonly record struct Hit(long Row, float Similarity, HitContent? Content);

    /// <summary>A found row's coordinates, tokens and views.</summary>
    private sealed record HitContent(LatLng Location, short[] Tokens, HalfVector[] Views)
    {
        public void CopyTo(RowContent content, long slot, int dimension)
        {
            content.Locations[slot] = Location;
            Tokens.CopyTo(content.Tokens.AsSpan(checked((int)(slot * Tokens.Length)), Tokens.Length));
            var to = content.Features.AsSpan(checked((int)(slot * Views.Length * dimension)), Views.Length * dimension);
            for (int v = 0; v < Views.Length; v++)
            {
                var half = Views[v].Memory.Span;
                var dest = to.Slice(v * dimension, dimension);
                for (int c = 0; c < dimension; c++) dest[c] = (float)half[c];
            }
        }
    }

    /// <summary>Reads a result row with its coordinates, tokens and views (columns 2, 3, 4, then the views), checked.</summary>
    private HitContent ReadHitContent(NpgsqlDataReader reader, string[] columns, long row)
    {
        var tokens = reader.GetFieldValue<short[]>(4);
        if (tokens.Length != Tokenizer.Length)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Row {row} of gallery table '{Table}' has {tokens.Length} tokens; its tokenizer writes {Tokenizer.Length}."));
        }

        var views = new HalfVector[columns.Length];
        for (int v = 0; v < columns.Length; v++)
        {
            if (reader.IsDBNull(5 + v)) throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Row {row} of gallery table '{Table}' has no {columns[v]} vector (NULL); the model reads that view."));
            views[v] = reader.GetFieldValue<HalfVector>(5 + v);
            if (views[v].Memory.Length != Dimension) throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Row {row} of gallery table '{Table}' has a {views[v].Memory.Length}-d {columns[v]} vector; the table has dimension {Dimension}."));
        }

        return new HitContent(new LatLng(reader.GetDouble(2), reader.GetDouble(3)), tokens, views);
    }

    private Hit ReadHit(NpgsqlDataReader reader, string[] columns)
    {
        long row = reader.GetInt64(0);
        return new Hit(row, (float)(1 - reader.GetDouble(1)), ReadHitContent(reader, columns, row));
    }
}

using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Tokens;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace GeoToken.Retrieval;

/// <summary>
/// A gallery held in a PostgreSQL table with pgvector: one row per photo (<c>row_no</c>, unique <c>img_id</c>, lat, lon,
/// S2 tokens as <c>smallint[]</c>, each feature view as <c>halfvec(d)</c>, AUTHOR and SERIES), searched by cosine
/// similarity through an HNSW index (<c>halfvec_cosine_ops</c>). Implements the retrieval contract, so the predictor, the
/// evaluation and training neighbors can search it; photos can be added while it serves (<see cref="AddAsync"/>), and
/// the next search finds them. <see cref="SearchRowsAsync"/> returns the neighbors' coordinates, tokens and features with
/// them (from the same rows, in the same round trip), so a predictor needs no local copy of the gallery.
/// </summary>
/// <remarks>
/// <para>
/// Fill it with <see cref="PgGalleryPush.PushAsync"/> (<c>geotoken db push</c>). Rows of the pushed dataset keep their
/// dataset row numbers; live additions are numbered after them. Result rows are <c>row_no</c> values.
/// </para>
/// <para>
/// Searching is thread-safe: each call takes its own connections from the data source's pool. Vectors are stored and
/// compared as float16 (pgvector computes in float32), so similarities differ from float32 search by up to about
/// 1e-3 (the float16 rounding of both vectors); neighbors whose similarities differ by less may swap places.
/// </para>
/// </remarks>
public sealed class PgGallery : INeighborRowSearch, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private long _rows;
    private bool _disposed;

    private PgGallery(NpgsqlDataSource dataSource, bool owns, PgGalleryInfo info, long rows)
    {
        _dataSource = dataSource;
        _ownsDataSource = owns;
        Info = info;
        _rows = rows;
    }

    /// <summary>What the metadata table records of the gallery (as read when it was opened).</summary>
    public PgGalleryInfo Info { get; }

    /// <summary>The gallery table.</summary>
    public string Table => Info.Table;

    /// <summary>The data source the gallery reads through.</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>The settings of searches through <see cref="SearchAsync"/> (K and ExcludeSelf come from each request). Set it before sharing the gallery.</summary>
    public PgSearchOptions SearchDefaults
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            field = value;
        }
    } = new();

    /// <summary><c>pgvector exact</c>, or <c>pgvector hnsw ef_search N</c> (neighbor files record it, so files of other settings are not reused).</summary>
    public string Method => SearchDefaults.Exact ? "pgvector exact" : string.Create(CultureInfo.InvariantCulture, $"pgvector hnsw ef_search {SearchDefaults.EfSearch}");

    /// <summary>
    /// Rows numbered 0 … GalleryRows − 1 may be returned: the highest row number + 1, re-read by every search (after
    /// its neighbors, so it covers every row returned) and addition; or <see cref="PgSearchOptions.RowLimit"/> when set.
    /// </summary>
    public long GalleryRows => SearchDefaults.RowLimit ?? Interlocked.Read(ref _rows);

    /// <inheritdoc/>
    public int Dimension => Info.Dimension;

    /// <inheritdoc/>
    public IReadOnlyList<FeatureModality> Views => Info.Views;

    /// <summary>The tokenizer of the <c>tokens</c> column (level 20, 2 levels per token; checked against the metadata when opened).</summary>
    public GeoTokenizer Tokenizer { get; } = new();

    /// <summary>The table, the pushed dataset's content id and the row count: <c>pg:TABLE:CONTENT:ROWS</c>.</summary>
    public string? GalleryId => string.Create(CultureInfo.InvariantCulture, $"pg:{Table}:{Info.ContentId ?? "live"}:{GalleryRows}");

    /// <summary>
    /// A data source for <paramref name="connectionString"/> (an Npgsql connection string) that knows pgvector's types.
    /// The caller owns and disposes it.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        return builder.Build();
    }

    /// <summary>Opens the gallery at <paramref name="address"/>, with a data source of its own (disposed with the gallery).</summary>
    /// <inheritdoc cref="OpenAsync(NpgsqlDataSource, string, CancellationToken)"/>
    public static async Task<PgGallery> OpenAsync(PgGalleryAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var dataSource = CreateDataSource(address.ConnectionString);
        try
        {
            return await OpenAsync(dataSource, address.Table, owns: true, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens the gallery table <paramref name="table"/> through <paramref name="dataSource"/> (which the caller keeps owning; see <see cref="CreateDataSource"/>).</summary>
    /// <exception cref="InvalidOperationException">The database has no such gallery (no metadata row), or the table is empty.</exception>
    public static Task<PgGallery> OpenAsync(NpgsqlDataSource dataSource, string table, CancellationToken cancellationToken = default) =>
        OpenAsync(dataSource, table, owns: false, cancellationToken);

    private static async Task<PgGallery> OpenAsync(NpgsqlDataSource dataSource, string table, bool owns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        PgGalleryAddress.CheckTableName(table);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var info = await PgGallerySchema.ReadInfoAsync(connection, table, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The database {connection.Database} has no gallery table '{table}' (no row in {PgGallerySchema.MetadataTable}); create it with geotoken db push.");
        long rows = await CountRowsAsync(connection, table, cancellationToken).ConfigureAwait(false);
        return new PgGallery(dataSource, owns, info, rows);
    }

    /// <summary>
    /// Creates an empty gallery table for live additions only (no dataset behind it) and opens it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The table exists already.</exception>
    public static async Task<PgGallery> CreateAsync(NpgsqlDataSource dataSource, string table, int dimension, IReadOnlyList<FeatureModality> views, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(views);
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            var info = new PgGalleryInfo { Table = table, DatasetRows = 0, Dimension = dimension, Views = views, HasAuthor = false, HasSeries = false };
            if (!await CreateTableAsync(connection, info, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The gallery table '{table}' exists already; open it with PgGallery.OpenAsync.");
            }
        }

        return await OpenAsync(dataSource, table, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the extension, the metadata table, the gallery table and its metadata row, unless the row exists (returns false then).</summary>
    internal static async Task<bool> CreateTableAsync(NpgsqlConnection connection, PgGalleryInfo info, CancellationToken cancellationToken)
    {
        PgGalleryAddress.CheckTableName(info.Table);
        if (info.Dimension is < 1 or > 4000) throw new ArgumentOutOfRangeException(nameof(info), info.Dimension, "halfvec HNSW indexes take 1…4000 dimensions.");
        if (info.Views.Count == 0 || info.Views[0] != FeatureModality.Image || info.Views.Distinct().Count() != info.Views.Count)
        {
            throw new ArgumentException($"A gallery needs the image view first and no view twice (got {string.Join(", ", info.Views)}).", nameof(info));
        }

        await EnsureExtensionAsync(connection, cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (both insert the type): creators take turns.
        await using (var turn = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
        {
            turn.Parameters.AddWithValue(PgGallerySchema.LockKey(PgGallerySchema.MetadataTable));
            await turn.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, PgGallerySchema.CreateMetadata, cancellationToken).ConfigureAwait(false);
        if (await PgGallerySchema.ReadInfoAsync(connection, info.Table, cancellationToken).ConfigureAwait(false) is not null) return false;
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection))
        {
            exists.Parameters.AddWithValue(info.Table);
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                throw new InvalidOperationException($"A table '{info.Table}' exists in database {connection.Database} but is not a GeoToken gallery (no row in {PgGallerySchema.MetadataTable}); choose another table name.");
            }
        }

        await ExecuteAsync(connection, PgGallerySchema.CreateTable(info.Table, info.Dimension, info.Views), cancellationToken).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand($"INSERT INTO {PgGallerySchema.MetadataTable} (name, content_id, dataset_rows, dimension, views, has_author, has_series, tokenizer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", connection))
        {
            insert.Parameters.AddWithValue(info.Table);
            insert.Parameters.AddWithValue((object?)info.ContentId ?? DBNull.Value);
            insert.Parameters.AddWithValue(info.DatasetRows);
            insert.Parameters.AddWithValue(info.Dimension);
            insert.Parameters.AddWithValue(info.Views.Select(PgGallerySchema.ViewName).ToArray());
            insert.Parameters.AddWithValue(info.HasAuthor);
            insert.Parameters.AddWithValue(info.HasSeries);
            insert.Parameters.AddWithValue(PgGallerySchema.TokenizerName);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task EnsureExtensionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var check = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", connection))
        {
            if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string) return;
        }

        try
        {
            await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS vector", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            throw new InvalidOperationException($"The database {connection.Database} lacks the pgvector extension and it could not be created ({e.MessageText}); install pgvector ≥ 0.8 and run CREATE EXTENSION vector as a privileged user.", e);
        }

        await connection.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a statement; long ones (index builds) pass <paramref name="timeoutSeconds"/> 0: no timeout, cancellation only.</summary>
    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, int? timeoutSeconds = null)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        if (timeoutSeconds is { } t) cmd.CommandTimeout = t;
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The highest row number + 1 (0 when empty).</summary>
    internal static async Task<long> CountRowsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"SELECT coalesce(max(row_no) + 1, 0) FROM {table}", connection);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Re-reads the row count (searches and additions through this object do it themselves).</summary>
    public async Task<long> RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        long rows = await CountRowsAsync(connection, Table, cancellationToken).ConfigureAwait(false);
        UpdateRows(rows);
        return rows;
    }

    private void UpdateRows(long rows)
    {
        long seen;
        do
        {
            seen = Interlocked.Read(ref _rows);
            if (rows <= seen) return;
        }
        while (Interlocked.CompareExchange(ref _rows, rows, seen) != seen);
    }

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

    /// <summary>A vector as float16 for pgvector, checked: finite, not zero, and within float16's range.</summary>
    /// <exception cref="InvalidVectorException">The vector is unusable; the message names <paramref name="matrix"/>, the row and the problem.</exception>
    internal static HalfVector ToHalf(ReadOnlySpan<float> values, FeatureMatrix? source, string matrix, long row) =>
        TryToHalf(values, out var half) is { } problem
            ? throw (problem.Length == 0 && source is not null ? VectorNorms.Invalid(source, matrix, row, values) : new InvalidVectorException(matrix, row, problem.Length == 0 ? "is zero or holds NaN or ∞" : problem, (source as NpyFeatureMatrix)?.Path))
            : half!;

    /// <summary>
    /// Converts to float16; returns null when usable, else the problem ("" for zero or non-finite values). Vectors that are
    /// not searched (<paramref name="searched"/> false: the location and text views) may be zero.
    /// </summary>
    internal static string? TryToHalf(ReadOnlySpan<float> values, out HalfVector? vector, bool searched = true)
    {
        vector = null;
        if (searched ? float.IsNaN(VectorNorms.InverseNorm(values)) : HasNonFinite(values)) return "";
        var half = new Half[values.Length];
        bool nonzero = false;
        for (int c = 0; c < values.Length; c++)
        {
            half[c] = (Half)values[c];
            if (Half.IsInfinity(half[c])) return string.Create(CultureInfo.InvariantCulture, $"holds {values[c]} (column {c}), beyond float16's range (±65504) in which the table stores vectors");
            nonzero |= half[c] != Half.Zero;
        }

        if (!nonzero && searched) return "is zero once rounded to float16 (every value is below 6e-8 in magnitude)";
        vector = new HalfVector(half);
        return null;
    }

    private static bool HasNonFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) return true;
        }

        return false;
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

    /// <summary>
    /// Adds photos while the gallery serves, numbered after every existing row (additions are serialised by an advisory
    /// lock, so row numbers stay dense); the next search finds them. A photo whose image id is already in the gallery is
    /// not added (its entry in the result is null).
    /// </summary>
    /// <returns>Per photo, in order, its new row number, or null when its image id was present.</returns>
    /// <exception cref="ArgumentException">A photo does not fit the gallery (views, dimension, coordinates, vector); the message names it.</exception>
    public async Task<IReadOnlyList<long?>> AddAsync(IReadOnlyList<PgGalleryRow> photos, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(photos);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tokenizer = new GeoTokenizer();
        var prepared = new (PgGalleryRow Photo, short[] Tokens, HalfVector[] Views)[photos.Count];
        for (int i = 0; i < photos.Count; i++)
        {
            var p = photos[i] ?? throw new ArgumentException($"Photo {i + 1} of the addition is null.", nameof(photos));
            string name = $"photo '{p.ImageId}' ({i + 1} of {photos.Count})";
            if (string.IsNullOrEmpty(p.ImageId)) throw new ArgumentException($"Photo {i + 1} of the addition has no image id.", nameof(photos));
            if (!(Math.Abs(p.Location.Latitude) <= 90) || !(Math.Abs(p.Location.Longitude) <= 180))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The location of {name} ({p.Location.Latitude}, {p.Location.Longitude}) is not a latitude in [-90, 90] and a longitude in [-180, 180]."), nameof(photos));
            }

            if (p.Features is null || p.Features.Count != Info.Views.Count)
            {
                throw new ArgumentException($"{name} has {p.Features?.Count ?? 0} feature views; the gallery table '{Table}' stores {Info.Views.Count} ({string.Join(", ", Info.Views)}).", nameof(photos));
            }

            var views = new HalfVector[Info.Views.Count];
            for (int v = 0; v < views.Length; v++)
            {
                var f = p.Features[v].Span;
                if (f.Length != Dimension) throw new ArgumentException($"The {Info.Views[v]} features of {name} have {f.Length} values; the gallery table '{Table}' has dimension {Dimension}.", nameof(photos));
                if (TryToHalf(f, out var half, searched: v == 0) is { } problem)
                {
                    throw new ArgumentException($"The {Info.Views[v]} features of {name} {(problem.Length == 0 ? "are zero or hold NaN or ∞" : problem)}.", nameof(photos));
                }

                views[v] = half!;
            }

            var tokens = tokenizer.Encode(p.Location.Latitude, p.Location.Longitude);
            prepared[i] = (p, [.. tokens.Select(t => checked((short)t))], views);
        }

        try
        {
            return await InsertAsync(prepared, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (IsConnectionLost(e))
        {
            // Not repeated: the commit may have reached the server before the connection broke (the ids tell, on a retry).
            _dataSource.Clear();
            throw;
        }
    }

    private async Task<IReadOnlyList<long?>> InsertAsync((PgGalleryRow Photo, short[] Tokens, HalfVector[] Views)[] prepared, CancellationToken cancellationToken)
    {
        var result = new long?[prepared.Length];
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
        {
            lockCmd.Parameters.AddWithValue(PgGallerySchema.LockKey(Table));
            await lockCmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        long next = Math.Max(await CountRowsAsync(connection, Table, cancellationToken).ConfigureAwait(false), Info.DatasetRows);
        string values = string.Join(", ", Enumerable.Range(1, 7 + Info.Views.Count).Select(i => "$" + i.ToString(CultureInfo.InvariantCulture)));
        string sql = $"INSERT INTO {Table} ({PgGallerySchema.Columns(Info.Views)}) VALUES ({values}) ON CONFLICT (img_id) DO NOTHING";
        for (int i = 0; i < prepared.Length; i++)
        {
            var (p, tokens, views) = prepared[i];
            await using var insert = new NpgsqlCommand(sql, connection, tx);
            insert.Parameters.AddWithValue(next);
            insert.Parameters.AddWithValue(p.ImageId);
            insert.Parameters.AddWithValue(p.Location.Latitude);
            insert.Parameters.AddWithValue(p.Location.Longitude);
            insert.Parameters.AddWithValue(NpgsqlDbType.Array | NpgsqlDbType.Smallint, tokens);
            foreach (var v in views) insert.Parameters.Add(new NpgsqlParameter { Value = v, DataTypeName = "halfvec" });
            insert.Parameters.AddWithValue(NpgsqlDbType.Text, (object?)p.Author ?? DBNull.Value);
            insert.Parameters.AddWithValue(NpgsqlDbType.Text, (object?)p.Series ?? DBNull.Value);
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1) result[i] = next++;
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        UpdateRows(next);
        return result;
    }

    /// <summary>Releases the data source when the gallery opened it itself.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsDataSource) await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsDataSource) _dataSource.Dispose();
    }
}

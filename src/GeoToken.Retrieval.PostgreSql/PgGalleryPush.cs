using System.Diagnostics;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Tokens;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace GeoToken.Retrieval;

/// <summary>
/// Loads a gallery dataset into a PostgreSQL gallery table (<c>geotoken db push</c>): binary COPY in chunks, each into a
/// staging table and on into the gallery with <c>ON CONFLICT (img_id) DO NOTHING</c> in one transaction; then the HNSW
/// index. Resumable (chunks already present are skipped, so a killed push continues where it stopped) and idempotent by
/// image id (a second push adds nothing). The dataset's content id is recorded; a table holding another dataset is refused.
/// </summary>
public static class PgGalleryPush
{
    /// <summary>Pushes <paramref name="dataset"/> into the table <see cref="PgPushOptions.Table"/> of <paramref name="dataSource"/> (see <see cref="PgGallery.CreateDataSource"/>).</summary>
    /// <exception cref="InvalidOperationException">The table holds another dataset, or is not a GeoToken gallery; the message names both.</exception>
    /// <exception cref="GeoDatasetException">The dataset has no image-id column.</exception>
    /// <exception cref="InvalidVectorException">A row's image features are zero, not finite, or beyond float16's range; the message names the file and row.</exception>
    public static async Task<PgPushReport> PushAsync(NpgsqlDataSource dataSource, GeoDataset dataset, PgPushOptions? options = null, IProgress<PgPushProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new PgPushOptions();
        options.Validate();
        if (!dataset.HasImageIds) throw new GeoDatasetException($"{dataset.MetaPath} has no image-id column (IMG_ID); a gallery table is keyed by image id. Its columns are {string.Join(", ", dataset.MetaColumns)}.");
        string table = options.Table;
        var views = dataset.Modalities.ToArray();
        if (views.Any(v => dataset.GetFeatures(v).Columns != dataset.Dimension))
        {
            throw new GeoDatasetException($"{dataset.MetaPath}: every feature view of a gallery table has the image dimension {dataset.Dimension}; the dataset has {string.Join(", ", views.Select(v => $"{v} {dataset.GetFeatures(v).Columns}-d"))}.");
        }

        var wanted = new PgGalleryInfo
        {
            Table = table,
            ContentId = dataset.ContentId,
            DatasetRows = dataset.Rows,
            Dimension = dataset.Dimension,
            Views = views,
            HasAuthor = dataset.HasColumn("AUTHOR"),
            HasSeries = dataset.HasColumn("SERIES"),
        };

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (!await PgGallery.CreateTableAsync(connection, wanted, cancellationToken).ConfigureAwait(false))
        {
            var present = (await PgGallerySchema.ReadInfoAsync(connection, table, cancellationToken).ConfigureAwait(false))!;
            if (present.ContentId != wanted.ContentId || present.DatasetRows != wanted.DatasetRows || present.Dimension != wanted.Dimension || !present.Views.SequenceEqual(wanted.Views))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"The gallery table '{table}' holds the dataset {present.ContentId ?? "(none: live additions only)"} ({present.DatasetRows} rows, {present.Dimension}-d, {string.Join("+", present.Views)}), not {Path.GetDirectoryName(dataset.MetaPath)} ({wanted.ContentId}, {wanted.DatasetRows} rows, {wanted.Dimension}-d, {string.Join("+", wanted.Views)}); push it into another table (--table)."));
            }
        }

        var clock = Stopwatch.StartNew();
        var tokenizer = new GeoTokenizer();
        int authorColumn = ColumnIndex(dataset, "AUTHOR"), seriesColumn = ColumnIndex(dataset, "SERIES");
        long rows = dataset.Rows, added = 0, present2 = 0;
        int skipped = 0, loaded = 0;
        for (long start = 0; start < rows; start += options.ChunkRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = (int)Math.Min(options.ChunkRows, rows - start);
            if (await CountAsync(connection, table, start, count, cancellationToken).ConfigureAwait(false) == count)
            {
                skipped++;
            }
            else
            {
                long inserted = await LoadChunkAsync(connection, dataset, views, tokenizer, authorColumn, seriesColumn, table, start, count, cancellationToken).ConfigureAwait(false);
                added += inserted;
                present2 += count - inserted;
                loaded++;
            }

            progress?.Report(new PgPushProgress(start + count, rows, "load"));
        }

        await using (var done = new NpgsqlCommand($"UPDATE {PgGallerySchema.MetadataTable} SET loaded_at = coalesce(loaded_at, now()) WHERE name = $1", connection))
        {
            done.Parameters.AddWithValue(table);
            await done.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var loadTime = clock.Elapsed;
        clock.Restart();
        bool built = false;
        if (options.BuildIndex && !await IndexExistsAsync(connection, table, cancellationToken).ConfigureAwait(false))
        {
            progress?.Report(new PgPushProgress(rows, rows, "index"));
            await BuildIndexAsync(connection, table, options, cancellationToken).ConfigureAwait(false);
            built = true;
        }

        var indexTime = clock.Elapsed;
        long tableRows;
        await using (var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection))
        {
            tableRows = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        var (tableBytes, indexBytes) = await SizesAsync(connection, table, cancellationToken).ConfigureAwait(false);
        return new PgPushReport
        {
            Table = table,
            ContentId = wanted.ContentId!,
            DatasetRows = rows,
            RowsAdded = added,
            RowsAlreadyPresent = present2,
            ChunksSkipped = skipped,
            ChunksLoaded = loaded,
            TableRows = tableRows,
            IndexBuilt = built,
            LoadTime = loadTime,
            IndexTime = indexTime,
            TableBytes = tableBytes,
            IndexBytes = indexBytes,
        };
    }

    /// <summary>Builds the HNSW index of the image view (cosine distance) unless it exists; records when.</summary>
    public static async Task BuildIndexAsync(NpgsqlConnection connection, string table, PgPushOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        PgGalleryAddress.CheckTableName(table);
        options.Validate();
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (options.MaintenanceWorkMemMB is { } mb) await PgGallery.ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"SET LOCAL maintenance_work_mem = '{mb}MB'"), cancellationToken).ConfigureAwait(false);
        if (options.ParallelWorkers is { } w) await PgGallery.ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"SET LOCAL max_parallel_maintenance_workers = {w}"), cancellationToken).ConfigureAwait(false);
        await PgGallery.ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture,
            $"CREATE INDEX IF NOT EXISTS {PgGallerySchema.IndexName(table)} ON {table} USING hnsw (f_image halfvec_cosine_ops) WITH (m = {options.HnswM}, ef_construction = {options.EfConstruction})"), cancellationToken, timeoutSeconds: 0).ConfigureAwait(false);
        await using (var record = new NpgsqlCommand($"UPDATE {PgGallerySchema.MetadataTable} SET indexed_at = now() WHERE name = $1", connection, tx))
        {
            record.Parameters.AddWithValue(table);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The table's size with TOAST but without indexes, and the HNSW index's size, in bytes.</summary>
    internal static async Task<(long Table, long Index)> SizesAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_table_size(to_regclass($1)), coalesce(pg_relation_size(to_regclass($2)), 0)", connection);
        cmd.Parameters.AddWithValue(table);
        cmd.Parameters.AddWithValue(PgGallerySchema.IndexName(table));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await r.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (r.GetInt64(0), r.GetInt64(1));
    }

    private static async Task<bool> IndexExistsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection);
        cmd.Parameters.AddWithValue(PgGallerySchema.IndexName(table));
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string table, long start, int count, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {table} WHERE row_no >= $1 AND row_no < $2", connection);
        cmd.Parameters.AddWithValue(start);
        cmd.Parameters.AddWithValue(start + count);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static int ColumnIndex(GeoDataset dataset, string column)
    {
        for (int i = 0; i < dataset.MetaColumns.Count; i++)
        {
            if (string.Equals(dataset.MetaColumns[i], column, StringComparison.OrdinalIgnoreCase)) return i;
        }

        return -1;
    }

    /// <summary>Copies rows [start, start + count) into a staging table and on into the gallery; returns the rows inserted.</summary>
    private static async Task<long> LoadChunkAsync(NpgsqlConnection connection, GeoDataset dataset, FeatureModality[] views, GeoTokenizer tokenizer,
        int authorColumn, int seriesColumn, string table, long start, int count, CancellationToken cancellationToken)
    {
        int d = dataset.Dimension, t = tokenizer.Length;
        var features = new float[views.Length][];
        for (int v = 0; v < views.Length; v++)
        {
            features[v] = new float[(long)count * d];
            dataset.GetFeatures(views[v]).ReadRows(start, count, features[v]);
        }

        var locations = dataset.GetLocations(start, count).ToArray();
        var tokens = new int[count * t];
        dataset.GetTokens(start, count, tokenizer, tokens);
        string columns = PgGallerySchema.Columns(views);

        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await PgGallery.ExecuteAsync(connection, $"CREATE TEMP TABLE geotoken_stage ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA", cancellationToken).ConfigureAwait(false);
        await using (var writer = await connection.BeginBinaryImportAsync($"COPY geotoken_stage ({columns}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            var rowTokens = new short[t];
            for (int i = 0; i < count; i++)
            {
                long row = start + i;
                var meta = dataset.GetMetaRow(row);
                await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(row, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(dataset.GetImageId(row), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(locations[i].Latitude, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(locations[i].Longitude, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                for (int p = 0; p < t; p++) rowTokens[p] = checked((short)tokens[i * t + p]);
                await writer.WriteAsync(rowTokens, NpgsqlDbType.Array | NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
                for (int v = 0; v < views.Length; v++)
                {
                    var values = features[v].AsSpan(i * d, d);
                    HalfVector vector = v == 0
                        ? PgGallery.ToHalf(values, dataset.GetFeatures(views[v]), "gallery", row)
                        : PgGallery.TryToHalf(values, out var half, searched: false) is { } problem
                            ? throw new InvalidVectorException("gallery", row, $"{views[v]} features {(problem.Length == 0 ? "hold NaN or ∞" : problem)}", dataset.GetFeaturePath(views[v]))
                            : half!;
                    await writer.WriteAsync(vector, "halfvec", cancellationToken).ConfigureAwait(false);
                }

                await WriteTextAsync(writer, authorColumn < 0 ? null : meta[authorColumn], cancellationToken).ConfigureAwait(false);
                await WriteTextAsync(writer, seriesColumn < 0 ? null : meta[seriesColumn], cancellationToken).ConfigureAwait(false);
            }

            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        long inserted;
        await using (var insert = new NpgsqlCommand($"INSERT INTO {table} ({columns}) SELECT {columns} FROM geotoken_stage ON CONFLICT (img_id) DO NOTHING", connection, tx))
        {
            insert.CommandTimeout = 0; // a chunk into a large indexed table can take long; cancellation still applies
            inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return inserted;
    }

    private static Task WriteTextAsync(NpgsqlBinaryImporter writer, string? value, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
}

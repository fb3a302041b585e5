using GeoToken.Data;
using Npgsql;

namespace GeoToken.Retrieval;

// The gallery table and its metadata: creating them, the pgvector extension, row counts.
public sealed partial class PgGallery
{
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
}

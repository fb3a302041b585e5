using System.Globalization;
using GeoToken.Data;
using Npgsql;

namespace GeoToken.Retrieval;

/// <summary>The SQL of gallery tables and their metadata table (names are checked identifiers, never user text).</summary>
internal static class PgGallerySchema
{
    /// <summary>The metadata table: one row per gallery table.</summary>
    public const string MetadataTable = "geotoken_gallery";

    /// <summary>The tokenizer whose tokens the <c>tokens</c> column holds.</summary>
    public const string TokenizerName = "geotoken level 20, 2 levels per token";

    public const string CreateMetadata = $"""
        CREATE TABLE IF NOT EXISTS {MetadataTable} (
            name text PRIMARY KEY,
            content_id text,
            dataset_rows bigint NOT NULL,
            dimension int NOT NULL,
            views text[] NOT NULL,
            has_author boolean NOT NULL,
            has_series boolean NOT NULL,
            tokenizer text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            loaded_at timestamptz,
            indexed_at timestamptz)
        """;

    /// <summary>The column of a feature view: <c>f_image</c>, <c>f_location</c>, <c>f_text</c>.</summary>
    public static string Column(FeatureModality view) => view switch
    {
        FeatureModality.Image => "f_image",
        FeatureModality.Location => "f_location",
        FeatureModality.Text => "f_text",
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "Unknown feature view."),
    };

    /// <summary>The feature view a metadata <c>views</c> entry names.</summary>
    public static FeatureModality ParseView(string name, string table) => name switch
    {
        "image" => FeatureModality.Image,
        "location" => FeatureModality.Location,
        "text" => FeatureModality.Text,
        _ => throw new InvalidDataException($"The metadata of gallery table '{table}' lists an unknown feature view '{name}'."),
    };

    /// <summary>The metadata <c>views</c> entry of a view.</summary>
    public static string ViewName(FeatureModality view) => view switch
    {
        FeatureModality.Image => "image",
        FeatureModality.Location => "location",
        FeatureModality.Text => "text",
        _ => throw new ArgumentOutOfRangeException(nameof(view), view, "Unknown feature view."),
    };

    public static string CreateTable(string table, int dimension, IReadOnlyList<FeatureModality> views)
    {
        var features = string.Concat(views.Select(v => string.Create(CultureInfo.InvariantCulture, $",\n    {Column(v)} halfvec({dimension}){(v == FeatureModality.Image ? " NOT NULL" : "")}")));
        return $"""
            CREATE TABLE {table} (
                row_no bigint PRIMARY KEY CHECK (row_no >= 0),
                img_id text NOT NULL UNIQUE,
                lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
                lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
                tokens smallint[] NOT NULL{features},
                author text,
                series text)
            """;
    }

    /// <summary>The columns a row is written with (COPY and inserts), in order.</summary>
    public static string Columns(IReadOnlyList<FeatureModality> views) =>
        "row_no, img_id, lat, lon, tokens, " + string.Join(", ", views.Select(Column)) + ", author, series";

    /// <summary>The HNSW index of the image view, by cosine distance.</summary>
    public static string IndexName(string table) => table + "_image_hnsw";

    /// <summary>An advisory lock key per gallery table (serialises live additions, which number rows).</summary>
    public static long LockKey(string table)
    {
        long h = unchecked((long)0xcbf29ce484222325);
        foreach (char c in "geotoken:" + table) h = unchecked((h ^ c) * 0x100000001b3);
        return h;
    }

    /// <summary>Reads a gallery's metadata row, or null when the table has none.</summary>
    public static async Task<PgGalleryInfo?> ReadInfoAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection))
        {
            exists.Parameters.AddWithValue(MetadataTable);
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!) return null;
        }

        await using var cmd = new NpgsqlCommand($"SELECT content_id, dataset_rows, dimension, views, has_author, has_series, loaded_at, indexed_at, tokenizer FROM {MetadataTable} WHERE name = $1", connection);
        cmd.Parameters.AddWithValue(table);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        string tokenizer = r.GetString(8);
        if (tokenizer != TokenizerName) throw new InvalidDataException($"Gallery table '{table}' holds tokens of '{tokenizer}'; this version reads '{TokenizerName}'.");
        return new PgGalleryInfo
        {
            Table = table,
            ContentId = r.IsDBNull(0) ? null : r.GetString(0),
            DatasetRows = r.GetInt64(1),
            Dimension = r.GetInt32(2),
            Views = [.. r.GetFieldValue<string[]>(3).Select(v => ParseView(v, table))],
            HasAuthor = r.GetBoolean(4),
            HasSeries = r.GetBoolean(5),
            LoadedAt = r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6),
            IndexedAt = r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
        };
    }
}

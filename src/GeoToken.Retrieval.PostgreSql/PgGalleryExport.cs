using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace GeoToken.Retrieval;

/// <summary>
/// A gallery table's rows as a local gallery dataset folder (meta.csv with IMG_ID, LAT, LON, AUTHOR/SERIES; float16
/// feature files): what a pipeline that reads neighbor features and coordinates by row needs from a PostgreSQL gallery.
/// The folder is a snapshot of rows 0 … N − 1 (N: the rows when it was written); galleries only append, so a snapshot
/// stays valid and is reused while its <see cref="PgGallery.GalleryId"/> matches.
/// </summary>
public static class PgGalleryExport
{
    /// <summary>The marker file naming the gallery a snapshot was written from (written last).</summary>
    public const string MarkerFileName = "pg-snapshot.txt";

    /// <summary>
    /// A snapshot of <paramref name="gallery"/>'s current rows in <paramref name="cacheDirectory"/>/TABLE-ROWS: reused when it
    /// exists for the same gallery id, written otherwise (into a temporary folder, moved into place when complete).
    /// Returns the folder and its row count; search the gallery with <see cref="PgSearchOptions.RowLimit"/> = that count
    /// so that results stay inside the snapshot.
    /// </summary>
    /// <exception cref="InvalidDataException">A row number is missing in the table (rows must be numbered densely).</exception>
    public static async Task<(string Folder, long Rows)> SnapshotAsync(PgGallery gallery, string cacheDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        long rows = await gallery.RefreshAsync(cancellationToken).ConfigureAwait(false);
        string id = gallery.Info.ContentId ?? "live";
        string name = string.Create(CultureInfo.InvariantCulture, $"{gallery.Table}-{rows}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)))[..12]}");
        string folder = Path.GetFullPath(Path.Combine(cacheDirectory, name));
        string expected = string.Create(CultureInfo.InvariantCulture, $"{gallery.Table} {id} {rows}");
        string marker = Path.Combine(folder, MarkerFileName);
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false)).Trim() == expected) return (folder, rows);

        Directory.CreateDirectory(cacheDirectory);
        string temporary = folder + ".partial-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            await ExportAsync(gallery, temporary, rows, cancellationToken).ConfigureAwait(false);
            AtomicFile.WriteAllText(Path.Combine(temporary, MarkerFileName), expected + "\n");
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(temporary, folder);
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }

        return (folder, rows);
    }

    /// <summary>Writes rows 0 … <paramref name="rows"/> − 1 of <paramref name="gallery"/> as a gallery dataset into <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">A row number is missing in the table.</exception>
    public static async Task ExportAsync(PgGallery gallery, string folder, long rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        var info = gallery.Info;
        int d = info.Dimension;
        var extras = new List<string>();
        if (info.HasAuthor) extras.Add("AUTHOR");
        if (info.HasSeries) extras.Add("SERIES");
        using var writer = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions
        {
            ElementType = FeatureElementType.Float16,
            ImageDimension = d,
            LocationDimension = info.Views.Contains(FeatureModality.Location) ? d : null,
            TextDimension = info.Views.Contains(FeatureModality.Text) ? d : null,
            ExtraColumns = extras,
            ExpectedRows = rows,
        });
        var views = new[] { FeatureModality.Image, FeatureModality.Location, FeatureModality.Text }.Where(info.Views.Contains).ToArray();
        string columns = "row_no, img_id, lat, lon, " + string.Join(", ", views.Select(PgGallerySchema.Column)) + ", author, series";
        await using var connection = await gallery.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var reader = await connection.BeginBinaryExportAsync(
            string.Create(CultureInfo.InvariantCulture, $"COPY (SELECT {columns} FROM {gallery.Table} WHERE row_no < {rows} ORDER BY row_no) TO STDOUT (FORMAT BINARY)"), cancellationToken).ConfigureAwait(false);
        var features = new Half[3][];
        var extra = new string[extras.Count];
        for (long expected = 0; expected < rows; expected++)
        {
            if (await reader.StartRowAsync(cancellationToken).ConfigureAwait(false) == -1)
            {
                throw new InvalidDataException($"The gallery table '{gallery.Table}' ends at row {expected}; {rows} rows were expected.");
            }

            long row = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            if (row != expected) throw new InvalidDataException($"The gallery table '{gallery.Table}' has no row_no {expected} (the next is {row}); a gallery exported by row number needs dense rows.");
            string id = await reader.ReadAsync<string>(NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            double lat = await reader.ReadAsync<double>(NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
            double lon = await reader.ReadAsync<double>(NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
            foreach (var view in views)
            {
                if (reader.IsNull) throw new InvalidDataException($"Row {row} of the gallery table '{gallery.Table}' has no {view} features.");
                features[(int)view] = (await reader.ReadAsync<HalfVector>(cancellationToken).ConfigureAwait(false)).ToArray();
            }

            // A photo added live without an uploader or series gets an empty field, as a CSV writes a missing value.
            string author = await ReadTextAsync(reader, cancellationToken).ConfigureAwait(false) ?? "";
            string series = await ReadTextAsync(reader, cancellationToken).ConfigureAwait(false) ?? "";
            int e = 0;
            if (info.HasAuthor) extra[e++] = author;
            if (info.HasSeries) extra[e++] = series;
            writer.WriteRows([id], [new LatLng(lat, lon)], features[0], features[1], features[2], extra);
        }

        writer.Commit();
    }

    private static async Task<string?> ReadTextAsync(NpgsqlBinaryExporter reader, CancellationToken cancellationToken)
    {
        if (!reader.IsNull) return await reader.ReadAsync<string>(NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        await reader.SkipAsync(cancellationToken).ConfigureAwait(false);
        return null;
    }
}

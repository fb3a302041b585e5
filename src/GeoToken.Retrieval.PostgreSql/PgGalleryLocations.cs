using System.Globalization;
using GeoToken.Geometry;
using NpgsqlTypes;

namespace GeoToken.Retrieval;

/// <summary>The coordinates of a gallery table's rows, by row number: what a GPS gallery kept in PostgreSQL needs besides its search.</summary>
public static class PgGalleryLocations
{
    /// <summary>
    /// The coordinates of rows 0 … <paramref name="rows"/> − 1 of <paramref name="gallery"/> (row i at index i). Search the
    /// gallery with <see cref="PgSearchOptions.RowLimit"/> = <paramref name="rows"/> so that results stay inside them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is not in [1, the table's rows].</exception>
    /// <exception cref="InvalidDataException">A row number is missing in the table (rows must be numbered densely).</exception>
    public static async Task<LatLng[]> ReadAsync(PgGallery gallery, long rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        long present = await gallery.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (rows < 1 || rows > present || rows > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"The gallery table '{gallery.Table}' has {present} rows; read between 1 and {Math.Min(present, Array.MaxLength)}.");
        }

        var result = new LatLng[rows];
        await using var connection = await gallery.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var reader = await connection.BeginBinaryExportAsync(
            string.Create(CultureInfo.InvariantCulture, $"COPY (SELECT row_no, lat, lon FROM {gallery.Table} WHERE row_no < {rows} ORDER BY row_no) TO STDOUT (FORMAT BINARY)"), cancellationToken).ConfigureAwait(false);
        for (long expected = 0; expected < rows; expected++)
        {
            if (await reader.StartRowAsync(cancellationToken).ConfigureAwait(false) == -1)
            {
                throw new InvalidDataException($"The gallery table '{gallery.Table}' ends at row {expected}; {rows} rows were expected.");
            }

            long row = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            if (row != expected) throw new InvalidDataException($"The gallery table '{gallery.Table}' has no row_no {expected} (the next is {row}); coordinates by row number need dense rows.");
            double lat = await reader.ReadAsync<double>(NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
            double lon = await reader.ReadAsync<double>(NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
            result[expected] = new LatLng(lat, lon);
        }

        return result;
    }
}

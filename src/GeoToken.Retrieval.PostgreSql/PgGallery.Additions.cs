using System.Globalization;
using GeoToken.Tokens;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace GeoToken.Retrieval;

// Live additions: rows numbered after every existing row under an advisory lock.
public sealed partial class PgGallery
{
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
}

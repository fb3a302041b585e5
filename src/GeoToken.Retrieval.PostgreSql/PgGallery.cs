using System.Globalization;
using GeoToken.Data;
using GeoToken.Tokens;
using Npgsql;

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
public sealed partial class PgGallery : INeighborRowSearch, IAsyncDisposable, IDisposable
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

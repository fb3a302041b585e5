using System.CommandLine;
using GeoToken.Retrieval;

namespace GeoToken.Cli;

/// <summary>
/// <c>--gallery DIR|postgresql://…</c> and its PostgreSQL options, shared by predict, serve, eval and retrieve. A PostgreSQL
/// gallery is searched in the database. predict and serve read the neighbors' features, tokens and coordinates from the
/// rows each search returns (rows added live are used by the next query), unless <c>--gallery-cache</c> is given; eval and
/// retrieve read them by row from a snapshot of the table in <c>--gallery-cache</c> (written once per table size, reused
/// while the table is unchanged).
/// </summary>
internal sealed class GallerySetting(string description)
{
    private readonly Option<string> _gallery = new("--gallery") { HelpName = "DIR|URI", Description = description + " Or a PostgreSQL gallery: postgresql://[user@]host[:port]/db?table=NAME (geotoken db push; a host starting with / is a socket folder).", Required = true };
    private readonly Option<DirectoryInfo?> _cache = new("--gallery-cache") { HelpName = "DIR", Description = "With a postgresql:// gallery: where its row snapshot is kept (default: ~/.cache/geotoken/pg). predict and serve use no snapshot unless it is given (then rows added after it was written are not searched)." };
    private readonly Option<int?> _efSearch = new("--ef-search") { HelpName = "N", Description = "With a postgresql:// gallery: HNSW ef_search (default 40; higher: better recall, slower)." };
    private readonly Option<bool> _exact = new("--exact-search") { Description = "With a postgresql:// gallery: compare every row instead of using the HNSW index." };

    public void AddTo(Command command)
    {
        command.Add(_gallery);
        command.Add(_cache);
        command.Add(_efSearch);
        command.Add(_exact);
    }

    /// <summary>The raw --gallery value.</summary>
    public string Value(ParseResult parse) => parse.GetValue(_gallery)!;

    /// <summary>
    /// Opens the gallery: a folder as it is, or a PostgreSQL gallery with its search, and its row snapshot unless
    /// <paramref name="rowsFromSearch"/> (the caller reads rows through the search) and no --gallery-cache was given.
    /// </summary>
    public async Task<OpenedGallery> OpenAsync(ParseResult parse, TextWriter log, CancellationToken cancellationToken, bool rowsFromSearch = false)
    {
        string value = Value(parse);
        if (!PgGalleryAddress.IsUri(value))
        {
            if (parse.GetValue(_efSearch) is not null || parse.GetValue(_exact) || parse.GetValue(_cache) is not null)
            {
                throw new CliUsageException("--ef-search, --exact-search and --gallery-cache apply to a postgresql:// gallery only.");
            }

            return new OpenedGallery(Path.GetFullPath(value), null);
        }

        PgGalleryAddress address;
        try
        {
            address = PgGalleryAddress.Parse(value);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--gallery: {e.Message}");
        }

        var gallery = await PgGallery.OpenAsync(address, cancellationToken).ConfigureAwait(false);
        try
        {
            var settings = new PgSearchOptions { Exact = parse.GetValue(_exact), EfSearch = parse.GetValue(_efSearch) ?? 40 };
            string method = parse.GetValue(_exact) ? "exact scan" : "HNSW";
            if (rowsFromSearch && parse.GetValue(_cache) is null)
            {
                gallery.SearchDefaults = settings;
                log.WriteLine($"gallery {address}: {gallery.GalleryRows:N0} rows, searched by {method}, neighbor rows read from the database");
                return new OpenedGallery(null, gallery);
            }

            string cache = parse.GetValue(_cache)?.FullName
                ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "geotoken", "pg");
            var (folder, rows) = await PgGalleryExport.SnapshotAsync(gallery, cache, cancellationToken).ConfigureAwait(false);
            log.WriteLine($"gallery {address}: {rows:N0} rows, searched by {method}, row snapshot {folder}");
            gallery.SearchDefaults = settings with { RowLimit = rows };
            return new OpenedGallery(folder, gallery);
        }
        catch (ArgumentException e) when (e is not InvalidVectorException)
        {
            await gallery.DisposeAsync().ConfigureAwait(false);
            throw new CliUsageException(e.Message);
        }
        catch
        {
            await gallery.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>
/// An opened --gallery: the folder the pipeline reads rows from (null when they come with each search), and the search
/// when it is not the folder's own.
/// </summary>
internal sealed record OpenedGallery(string? Directory, PgGallery? Search) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Search?.DisposeAsync() ?? ValueTask.CompletedTask;
}

using Npgsql;

[assembly: AssemblyFixture(typeof(GeoToken.Retrieval.PostgreSql.Tests.PostgresServer))]

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>
/// The tests' PostgreSQL 17 server with pgvector (<see cref="PrivatePostgres"/>: a temporary cluster on a unix socket,
/// removed afterwards). Fails — never skips — when PostgreSQL 17 or pgvector is not installed.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private PrivatePostgres? _server;

    /// <summary>The Npgsql connection string.</summary>
    public string ConnectionString => _server!.ConnectionString;

    /// <summary>A data source knowing pgvector's types (the caller disposes it).</summary>
    public NpgsqlDataSource CreateDataSource() => PgGallery.CreateDataSource(ConnectionString);

    /// <summary>The <c>postgresql://</c> address of <paramref name="table"/> on this server, as the CLI takes it.</summary>
    public string GalleryUri(string table)
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"postgresql://{b.Username}@{Uri.EscapeDataString(b.Host!)}:{b.Port}/{b.Database}?table={table}";
    }

    public async ValueTask InitializeAsync() => _server = await PrivatePostgres.StartAsync("shared_buffers=128MB").ConfigureAwait(false);

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;
}

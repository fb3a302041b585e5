using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

[assembly: AssemblyFixture(typeof(GeoToken.Retrieval.PostgreSql.Tests.PostgresServer))]

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>
/// A private PostgreSQL 17 server with pgvector for the test run: a fresh cluster in a temporary folder, listening on a
/// unix socket in that folder only (no TCP: <c>listen_addresses=''</c>), removed afterwards. As root the server runs as
/// the <c>postgres</c> user. Fails — never skips — when PostgreSQL 17 or pgvector is not installed.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string BinDirectory = "/usr/lib/postgresql/17/bin";
    private const string VectorControl = "/usr/share/postgresql/17/extension/vector.control";
    private string? _dir;
    private bool _started;

    /// <summary>The Npgsql connection string of the <c>geotoken</c> database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The unix-socket folder.</summary>
    public string SocketDirectory => Path.Combine(_dir!, "sock");

    /// <summary>The port naming the socket file.</summary>
    public int Port { get; private set; }

    /// <summary>A data source knowing pgvector's types (the caller disposes it).</summary>
    public NpgsqlDataSource CreateDataSource() => PgGallery.CreateDataSource(ConnectionString);

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")) || !File.Exists(VectorControl))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 17 with pgvector is not installed ({BinDirectory}/initdb or {VectorControl} is missing); these tests need a real server. "
                + "Install them with eng/setup.sh --test-deps (apt-get install -t trixie postgresql-17 postgresql-17-pgvector).");
        }

        _dir = Directory.CreateTempSubdirectory("geotoken-pg-").FullName;
        string data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(SocketDirectory);
        bool root = Environment.UserName == "root";
        if (root)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _dir], asPostgres: false).ConfigureAwait(false);
        }

        Port = FreePort();
        await RunAsync(Path.Combine(BinDirectory, "initdb"), ["-D", data, "-U", "geotoken", "--auth=trust", "-E", "UTF8", "--no-sync"], root).ConfigureAwait(false);
        await RunAsync(Path.Combine(BinDirectory, "pg_ctl"),
            ["-D", data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "-o",
             $"-p {Port.ToString(CultureInfo.InvariantCulture)} -k {SocketDirectory} -c listen_addresses='' -c fsync=off -c shared_buffers=128MB", "start"], root).ConfigureAwait(false);
        _started = true;
        ConnectionString = new NpgsqlConnectionStringBuilder { Host = SocketDirectory, Port = Port, Username = "geotoken", Database = "postgres", Pooling = true }.ConnectionString;
        await using var ds = CreateDataSource();
        await using var conn = await ds.OpenConnectionAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", conn);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_dir is null) return;
        if (_started)
        {
            await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"], Environment.UserName == "root").ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A port number for the socket file name (no TCP listener is opened; a free loopback port keeps it unlike another server's).</summary>
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private async Task RunAsync(string program, IReadOnlyList<string> args, bool asPostgres)
    {
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        if (asPostgres)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(program);
        }

        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().ConfigureAwait(false);
        if (p.ExitCode != 0)
        {
            string log = _dir is not null && File.Exists(Path.Combine(_dir, "server.log")) ? await File.ReadAllTextAsync(Path.Combine(_dir, "server.log")).ConfigureAwait(false) : "";
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed (exit {p.ExitCode}): {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}{log}");
        }
    }
}

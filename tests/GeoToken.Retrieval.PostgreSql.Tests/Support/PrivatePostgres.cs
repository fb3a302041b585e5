using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>
/// A private PostgreSQL 17 server with pgvector: a fresh cluster in a temporary folder, listening on a unix socket in
/// that folder only (no TCP: <c>listen_addresses=''</c>), removed on disposal. As root the server runs as the
/// <c>postgres</c> user. Used by the tests' fixture and linked into the PostgreSQL benchmark.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/17/bin";
    private const string VectorControl = "/usr/share/postgresql/17/extension/vector.control";
    private readonly string _dir;
    private readonly bool _root;
    private bool _started;
    private string _options = "";

    private PrivatePostgres(string dir, bool root)
    {
        _dir = dir;
        _root = root;
    }

    /// <summary>The Npgsql connection string of the server's <c>postgres</c> database as user <c>geotoken</c>.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The unix-socket folder.</summary>
    public string SocketDirectory => Path.Combine(_dir, "sock");

    /// <summary>The port naming the socket file.</summary>
    public int Port { get; private set; }

    /// <summary>
    /// Creates and starts the server with <c>CREATE EXTENSION vector</c> done; <paramref name="settings"/> are extra
    /// <c>-c name=value</c> server settings.
    /// </summary>
    /// <exception cref="InvalidOperationException">PostgreSQL 17 or pgvector is not installed, or the server did not start (the message holds its log).</exception>
    public static async Task<PrivatePostgres> StartAsync(params string[] settings)
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")) || !File.Exists(VectorControl))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 17 with pgvector is not installed ({BinDirectory}/initdb or {VectorControl} is missing); these tests need a real server. "
                + "Install them with eng/setup.sh --test-deps (apt-get install -t trixie postgresql-17 postgresql-17-pgvector).");
        }

        var server = new PrivatePostgres(Directory.CreateTempSubdirectory("geotoken-pg-").FullName, Environment.UserName == "root");
        try
        {
            await server.StartServerAsync(settings).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartServerAsync(string[] settings)
    {
        string data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(SocketDirectory);
        if (_root) await RunAsync("chown", ["-R", "postgres:postgres", _dir], asPostgres: false).ConfigureAwait(false);
        Port = FreePort();
        await RunAsync(Path.Combine(BinDirectory, "initdb"), ["-D", data, "-U", "geotoken", "--auth=trust", "-E", "UTF8", "--no-sync"], _root).ConfigureAwait(false);
        _options = $"-p {Port.ToString(CultureInfo.InvariantCulture)} -k {SocketDirectory} -c listen_addresses='' -c fsync=off" + string.Concat(settings.Select(s => " -c " + s));
        await StartAgainAsync().ConfigureAwait(false);
        ConnectionString = new NpgsqlConnectionStringBuilder { Host = SocketDirectory, Port = Port, Username = "geotoken", Database = "postgres", MaxPoolSize = 64 }.ConnectionString;
        await using var ds = PgGallery.CreateDataSource(ConnectionString);
        await using var conn = await ds.OpenConnectionAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", conn);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the stopped server again (same folder, socket and settings); returns when it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "-o", _options, "start"], _root).ConfigureAwait(false);
        _started = true;
    }

    /// <summary>
    /// Stops the server as <c>pg_ctl stop -m <paramref name="mode"/></c> does (<c>fast</c>: open sessions are terminated,
    /// transactions rolled back; <c>immediate</c>: a crash, recovered at the next start); returns when it is down.
    /// </summary>
    public async Task StopAsync(string mode = "fast")
    {
        await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", mode, "-w", "-t", "60", "stop"], _root).ConfigureAwait(false);
        _started = false;
    }

    /// <summary>Stops the server (immediately) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            _started = false;
            await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"], _root).ConfigureAwait(false);
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
            string logPath = Path.Combine(_dir, "server.log");
            string log = File.Exists(logPath) ? await File.ReadAllTextAsync(logPath).ConfigureAwait(false) : "";
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed (exit {p.ExitCode}): {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}{log}");
        }
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace GeoToken.Retrieval;

/// <summary>
/// Where a PostgreSQL gallery lives: an Npgsql connection string and the gallery's table. Parsed from a libpq-style URI,
/// <c>postgresql://[user[:password]@][host][:port][/database][?param=value&amp;…]</c>, where <c>table=NAME</c> names the
/// gallery table (default <see cref="DefaultTable"/>) and a host starting with <c>/</c> (percent-encoded, or as
/// <c>?host=/dir</c>) is a unix-socket directory.
/// </summary>
public sealed partial record PgGalleryAddress
{
    /// <summary>The table used when none is named: <c>gallery</c>.</summary>
    public const string DefaultTable = "gallery";

    /// <summary>The Npgsql connection string (keyword form).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The gallery table (a lower-case SQL identifier, see <see cref="CheckTableName"/>).</summary>
    public required string Table { get; init; }

    /// <summary>
    /// Whether <see cref="Table"/> was named (by <see cref="Parse"/>'s <c>table</c> argument or the URI's <c>table</c>
    /// parameter) rather than defaulted to <see cref="DefaultTable"/>, so that a caller with another default (e.g. a GPS
    /// gallery) can apply its own.
    /// </summary>
    public bool TableGiven { get; init; }

    /// <summary>True when <paramref name="text"/> is a PostgreSQL URI (<c>postgresql://</c> or <c>postgres://</c>) rather than, e.g., a folder.</summary>
    public static bool IsUri(string? text) =>
        text is not null && (text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Parses a <c>postgresql://</c> URI, or an Npgsql keyword connection string (<c>Host=…;Database=…</c>).
    /// <paramref name="table"/>, when given, overrides the URI's <c>table</c> parameter.
    /// </summary>
    /// <exception cref="ArgumentException">The text is not a connection string this parser understands; the message names the part.</exception>
    public static PgGalleryAddress Parse(string connection, string? table = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connection);
        string? uriTable = null;
        NpgsqlConnectionStringBuilder builder;
        if (IsUri(connection))
        {
            builder = FromUri(connection, out uriTable);
        }
        else
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(connection);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"'{Redact(connection)}' is neither a postgresql:// URI nor an Npgsql connection string: {e.Message}", nameof(connection), e);
            }
        }

        string name = table ?? uriTable ?? DefaultTable;
        CheckTableName(name);
        return new PgGalleryAddress { ConnectionString = builder.ConnectionString, Table = name, TableGiven = table is not null || uriTable is not null };
    }

    /// <summary>Throws unless <paramref name="table"/> is a lower-case identifier of at most 40 characters (letters, digits, underscores; not starting with a digit).</summary>
    /// <exception cref="ArgumentException">The name is not allowed; the message says why.</exception>
    public static void CheckTableName(string table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!TableName().IsMatch(table))
        {
            throw new ArgumentException($"Gallery table name '{table}' is not allowed: use 1–40 lower-case letters, digits and underscores, starting with a letter or underscore.", nameof(table));
        }
    }

    /// <summary>The address with the password hidden, for messages and logs.</summary>
    public override string ToString()
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"{b.Host}{(b.Port == 5432 ? "" : ":" + b.Port.ToString(CultureInfo.InvariantCulture))}/{b.Database} table {Table}";
    }

    private static NpgsqlConnectionStringBuilder FromUri(string text, out string? table)
    {
        table = null;
        int scheme = text.IndexOf("://", StringComparison.Ordinal) + 3;
        string rest = text[scheme..];
        string query = "";
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        string database = "";
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            database = Uri.UnescapeDataString(rest[(slash + 1)..]);
            rest = rest[..slash];
        }

        var b = new NpgsqlConnectionStringBuilder();
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            string user = rest[..at];
            int colon = user.IndexOf(':', StringComparison.Ordinal);
            b.Username = Uri.UnescapeDataString(colon >= 0 ? user[..colon] : user);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(user[(colon + 1)..]);
            rest = rest[(at + 1)..];
        }

        if (rest.Length > 0)
        {
            string host = rest;
            int colon = host.LastIndexOf(':');
            if (colon >= 0 && !host.EndsWith(']'))
            {
                b.Port = ParsePort(host[(colon + 1)..], text);
                host = host[..colon];
            }

            if (host.Contains(',', StringComparison.Ordinal)) throw new ArgumentException($"'{Redact(text)}' names several hosts; give one.", nameof(text));
            b.Host = Uri.UnescapeDataString(host.Trim('[', ']'));
        }

        if (database.Length > 0) b.Database = database;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"'{Redact(text)}': the parameter '{pair}' has no value (write name=value).", nameof(text));
            string key = Uri.UnescapeDataString(pair[..eq]).ToLowerInvariant(), value = Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key)
            {
                case "table": table = value; break;
                case "host": b.Host = value; break;
                case "port": b.Port = ParsePort(value, text); break;
                case "user": b.Username = value; break;
                case "password": b.Password = value; break;
                case "dbname": b.Database = value; break;
                case "application_name": b.ApplicationName = value; break;
                case "connect_timeout": b.Timeout = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "sslmode": b.SslMode = Enum.Parse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true); break;
                default:
                    throw new ArgumentException($"'{Redact(text)}': unknown parameter '{key}' (understood: table, host, port, user, password, dbname, application_name, connect_timeout, sslmode).", nameof(text));
            }
        }

        if (string.IsNullOrEmpty(b.Host)) throw new ArgumentException($"'{Redact(text)}' names no host (write postgresql://host/database, or ?host=/socket/dir).", nameof(text));
        return b;
    }

    private static int ParsePort(string value, string text) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"'{Redact(text)}': port '{value}' is not a number in 1…65535.", nameof(text));

    /// <summary>The text with any password replaced by ***.</summary>
    internal static string Redact(string text) => Password().Replace(text, m => m.Groups[1].Value + "***" + m.Groups[2].Value);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex TableName();

    [GeneratedRegex(@"((?:://[^:/@]*:)|(?:password=))[^@&;]*([@&;]|$)", RegexOptions.IgnoreCase)]
    private static partial Regex Password();
}

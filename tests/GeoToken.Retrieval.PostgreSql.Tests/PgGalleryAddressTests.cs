using Npgsql;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>postgresql:// URIs and keyword connection strings as the CLI's --gallery takes them.</summary>
public sealed class PgGalleryAddressTests
{
    [Fact]
    public void A_uri_gives_host_port_user_database_and_table()
    {
        var a = PgGalleryAddress.Parse("postgresql://geo:s%40cret@db.example:6543/photos?table=mp16&sslmode=require");
        var b = new NpgsqlConnectionStringBuilder(a.ConnectionString);
        Assert.Equal("db.example", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("geo", b.Username);
        Assert.Equal("s@cret", b.Password);
        Assert.Equal("photos", b.Database);
        Assert.Equal(SslMode.Require, b.SslMode);
        Assert.Equal("mp16", a.Table);
        Assert.True(a.TableGiven);
        Assert.DoesNotContain("cret", a.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_socket_directory_may_be_percent_encoded_or_a_parameter_and_the_table_defaults()
    {
        var a = PgGalleryAddress.Parse("postgresql://%2Ftmp%2Fpg:5433/geo");
        Assert.Equal("/tmp/pg", new NpgsqlConnectionStringBuilder(a.ConnectionString).Host);
        Assert.Equal(PgGalleryAddress.DefaultTable, a.Table);
        Assert.False(a.TableGiven);
        var b = PgGalleryAddress.Parse("postgresql:///geo?host=/var/run/postgresql&port=5433", table: "other");
        Assert.Equal("/var/run/postgresql", new NpgsqlConnectionStringBuilder(b.ConnectionString).Host);
        Assert.Equal(5433, new NpgsqlConnectionStringBuilder(b.ConnectionString).Port);
        Assert.Equal("other", b.Table);
        Assert.True(b.TableGiven);
        Assert.Equal("k", PgGalleryAddress.Parse("Host=/tmp;Database=x", "k").Table);
        Assert.False(PgGalleryAddress.Parse("Host=/tmp;Database=x").TableGiven);
    }

    [Theory]
    [InlineData("postgresql://h/db?tabel=x", "unknown parameter 'tabel'")]
    [InlineData("postgresql://h:99999/db", "port '99999'")]
    [InlineData("postgresql:///db", "names no host")]
    [InlineData("postgresql://h/db?table=Drop;Table", "is not allowed")]
    [InlineData("postgresql://u:hunter2@h/db?sslmode", "has no value")]
    public void Bad_addresses_are_named(string text, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => PgGalleryAddress.Parse(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_postgresql_uris_are_uris()
    {
        Assert.True(PgGalleryAddress.IsUri("postgresql://h/db"));
        Assert.True(PgGalleryAddress.IsUri("postgres://h/db"));
        Assert.False(PgGalleryAddress.IsUri("/data/mp16"));
        Assert.False(PgGalleryAddress.IsUri(null));
    }
}

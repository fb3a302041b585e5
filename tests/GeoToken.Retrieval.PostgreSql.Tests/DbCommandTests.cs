using GeoToken.Cli;
using Npgsql;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary><c>geotoken db push</c> and <c>--gallery postgresql://…</c> through the real command tree.</summary>
public sealed class DbCommandTests(PostgresServer server, SynthGallery data)
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await GeoTokenCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private string Uri(string table)
    {
        var b = new NpgsqlConnectionStringBuilder(server.ConnectionString);
        return $"postgresql://{b.Username}@{System.Uri.EscapeDataString(b.Host!)}:{b.Port}/{b.Database}?table={table}";
    }

    [Fact]
    public async Task Push_twice_then_retrieve_through_the_table_as_through_the_folder()
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-pg-cli-").FullName;
        try
        {
            var push = await RunAsync("db", "push", "--gallery", data.TrainDirectory, "--connection", Uri("cli"), "--chunk-rows", "1000");
            Assert.True(push.ExitCode == 0, push.Error);
            Assert.Contains("3,000 rows added (3 chunks copied, 0 already present)", push.Output, StringComparison.Ordinal);
            Assert.Contains("HNSW index built", push.Output, StringComparison.Ordinal);
            var again = await RunAsync("db", "push", "--gallery", data.TrainDirectory, "--connection", Uri("cli"), "--chunk-rows", "1000");
            Assert.True(again.ExitCode == 0, again.Error);
            Assert.Contains("0 rows added (0 chunks copied, 3 already present)", again.Output, StringComparison.Ordinal);
            var info = await RunAsync("db", "info", "--connection", Uri("cli"));
            Assert.Contains(data.Train.ContentId, info.Output, StringComparison.Ordinal);

            string test = Path.GetDirectoryName(data.Test.MetaPath)!;
            var viaDb = await RunAsync("retrieve", "--gallery", Uri("cli"), "--gallery-cache", Path.Combine(dir, "cache"), "--exact-search",
                "--query", test, "--k", "10", "--out", Path.Combine(dir, "db"));
            Assert.True(viaDb.ExitCode == 0, viaDb.Error);
            var viaFolder = await RunAsync("retrieve", "--gallery", data.TrainDirectory, "--query", test, "--k", "10", "--out", Path.Combine(dir, "folder"));
            Assert.True(viaFolder.ExitCode == 0, viaFolder.Error);
            using var a = NeighborFile.Open(Path.Combine(dir, "db"));
            using var b = NeighborFile.Open(Path.Combine(dir, "folder"));
            Assert.Equal(b.QueryCount, a.QueryCount);
            for (long q = 0; q < a.QueryCount; q++)
            {
                for (int j = 0; j < 10; j++)
                {
                    // Both exact over the same float16 values: rows may differ only where similarities tie within float32 rounding.
                    Assert.True(a.Indices[q, j] == b.Indices[q, j] || Math.Abs(a.Similarities[q, j] - b.Similarities[q, j]) <= 2e-5, $"query {q}, neighbor {j}");
                }
            }

            var bad = await RunAsync("retrieve", "--gallery", Uri("cli") + "&tabel=x", "--query", test, "--out", Path.Combine(dir, "x"));
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("unknown parameter 'tabel'", bad.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using GeoToken.Cli.Tests;
using GeoToken.Data;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary><c>geotoken db push</c> and <c>--gallery postgresql://…</c> through the real command tree.</summary>
public sealed class DbCommandTests(PostgresServer server, SynthGallery data)
{
    [Fact]
    public async Task Push_twice_then_retrieve_through_the_table_as_through_the_folder()
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-pg-cli-").FullName;
        try
        {
            var push = await CliRunner.RunAsync("db", "push", "--gallery", data.TrainDirectory, "--connection", server.GalleryUri("cli"), "--chunk-rows", "1000");
            Assert.True(push.ExitCode == 0, push.Error);
            Assert.Contains("3,000 rows added (3 chunks copied, 0 already present)", push.Output, StringComparison.Ordinal);
            Assert.Contains("HNSW index built", push.Output, StringComparison.Ordinal);
            var again = await CliRunner.RunAsync("db", "push", "--gallery", data.TrainDirectory, "--connection", server.GalleryUri("cli"), "--chunk-rows", "1000");
            Assert.True(again.ExitCode == 0, again.Error);
            Assert.Contains("0 rows added (0 chunks copied, 3 already present)", again.Output, StringComparison.Ordinal);
            var info = await CliRunner.RunAsync("db", "info", "--connection", server.GalleryUri("cli"));
            Assert.Contains(data.Train.ContentId, info.Output, StringComparison.Ordinal);

            string test = Path.GetDirectoryName(data.Test.MetaPath)!;
            var viaDb = await CliRunner.RunAsync("retrieve", "--gallery", server.GalleryUri("cli"), "--gallery-cache", Path.Combine(dir, "cache"), "--exact-search",
                "--query", test, "--k", "10", "--out", Path.Combine(dir, "db"));
            Assert.True(viaDb.ExitCode == 0, viaDb.Error);
            var viaFolder = await CliRunner.RunAsync("retrieve", "--gallery", data.TrainDirectory, "--query", test, "--k", "10", "--out", Path.Combine(dir, "folder"));
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

            var bad = await CliRunner.RunAsync("retrieve", "--gallery", server.GalleryUri("cli") + "&tabel=x", "--query", test, "--out", Path.Combine(dir, "x"));
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("unknown parameter 'tabel'", bad.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
    [Fact]
    public async Task Predict_over_a_table_reads_its_neighbor_rows_from_the_database_and_answers_as_over_the_folder()
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-pg-cli-predict-").FullName;
        string model = PgPredictorTests.TinyModel("cli-predict");
        try
        {
            await using (var source = server.CreateDataSource())
            {
                await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = "cli_predict" }, cancellationToken: TestContext.Current.CancellationToken);
            }

            string features = Path.Combine(Path.GetDirectoryName(data.Test.MetaPath)!, FeatureModality.Image.FileName());
            string[] common = ["predict", "--model", model, "--features", features, "--rows", "30", "--reranker", "logprob", "--samples", "4"];
            var viaDb = await CliRunner.RunAsync([.. common, "--gallery", server.GalleryUri("cli_predict"), "--exact-search", "--json", Path.Combine(dir, "db.json")]);
            Assert.True(viaDb.ExitCode == 0, viaDb.Error);
            Assert.Contains("neighbor rows read from the database", viaDb.Error, StringComparison.Ordinal);
            var viaFolder = await CliRunner.RunAsync([.. common, "--gallery", data.TrainDirectory, "--json", Path.Combine(dir, "folder.json")]);
            Assert.True(viaFolder.ExitCode == 0, viaFolder.Error);

            using var a = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "db.json")));
            using var b = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "folder.json")));
            var pa = a.RootElement.EnumerateArray().ToArray();
            var pb = b.RootElement.EnumerateArray().ToArray();
            Assert.Equal(30, pa.Length);
            Assert.Equal(pb.Length, pa.Length);
            int same = 0;
            for (int i = 0; i < pa.Length; i++)
            {
                var na = pa[i].GetProperty("neighbors").EnumerateArray().ToArray();
                var nb = pb[i].GetProperty("neighbors").EnumerateArray().ToArray();
                bool identical = true;
                for (int j = 0; j < na.Length; j++)
                {
                    if (na[j].GetProperty("gallery_row").GetInt64() == nb[j].GetProperty("gallery_row").GetInt64()) continue;
                    identical = false;
                    // Both exact over the same float16 values: rows may differ only where similarities tie within float32 rounding.
                    Assert.True(Math.Abs(na[j].GetProperty("similarity").GetDouble() - nb[j].GetProperty("similarity").GetDouble()) <= 2e-5, $"query {i}, neighbor {j}");
                }

                if (!identical) continue;
                same++;
                // Same neighbors, read from the table (features float16 → float, tokens, coordinates) or from the folder: the same answer.
                Assert.Equal(pb[i].GetProperty("locations").GetRawText(), pa[i].GetProperty("locations").GetRawText());
            }

            Assert.True(same >= 25, $"only {same} of 30 queries had identical neighbors");
        }
        finally
        {
            File.Delete(model);
            Directory.Delete(dir, recursive: true);
        }
    }
}

using GeoToken.Cli.Tests;
using GeoToken.Reranking;

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>A GPS gallery in PostgreSQL (<c>geotoken db push-gps</c>) answers as the in-memory gallery of the same coordinates.</summary>
public sealed class PgGpsGalleryTests(PostgresServer server, SynthGallery data)
{
    [Fact]
    public async Task A_pushed_gps_gallery_ranks_as_the_flat_gallery_and_refuses_another_model()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("geotoken-pg-gps-").FullName;
        try
        {
            var options = SimilarityModelOptions.Tiny with { FeatureDimension = data.Train.Dimension };
            using var model = new SimilarityModel(options, seed: 3);
            model.eval();
            string modelPath = Path.Combine(dir, "sim.gts");
            SimilarityModelFile.Save(model, modelPath);

            var push = await CliRunner.RunAsync("db", "push-gps", "--similarity", modelPath, "--coordinates", "train", "--gallery", data.TrainDirectory, "--connection", server.GalleryUri("gps"), "--chunk-rows", "1000");
            Assert.True(push.ExitCode == 0, push.Error);
            Assert.Contains("3,000 rows added (3 chunks copied, 0 already present)", push.Output, StringComparison.Ordinal);
            var again = await CliRunner.RunAsync("db", "push-gps", "--similarity", modelPath, "--coordinates", "train", "--gallery", data.TrainDirectory, "--connection", server.GalleryUri("gps"), "--chunk-rows", "1000");
            Assert.True(again.ExitCode == 0, again.Error);
            Assert.Contains("0 rows added (0 chunks copied, 3 already present)", again.Output, StringComparison.Ordinal);
            var noGallery = await CliRunner.RunAsync("db", "push-gps", "--similarity", modelPath, "--coordinates", "train", "--connection", server.GalleryUri("gps"));
            Assert.Equal(2, noGallery.ExitCode);
            Assert.Contains("--coordinates train needs --gallery", noGallery.Error, StringComparison.Ordinal);
            // Without a table in the URI or --table, a GPS gallery goes to its own default table, not the image gallery's.
            string noTable = server.GalleryUri("x")[..server.GalleryUri("x").IndexOf('?', StringComparison.Ordinal)];
            var defaulted = await CliRunner.RunAsync("db", "push-gps", "--similarity", modelPath, "--coordinates", "train", "--gallery", data.TrainDirectory, "--connection", noTable, "--chunk-rows", "1000", "--no-index");
            Assert.True(defaulted.ExitCode == 0, defaulted.Error);
            await using (var gps = await PgGallery.OpenAsync(PgGalleryAddress.Parse(noTable, "gps_gallery"), ct)) Assert.Equal(3000, gps.GalleryRows);

            await using var table = await PgGallery.OpenAsync(PgGalleryAddress.Parse(server.GalleryUri("gps")), ct);
            table.SearchDefaults = table.SearchDefaults with { Exact = true };
            var coordinates = await PgGalleryLocations.ReadAsync(table, table.GalleryRows, ct);
            Assert.Equal(data.Train.GetLocations(0, (int)data.Train.Rows).ToArray(), coordinates);

            using var flat = GpsGallery.Create(model, coordinates, cancellationToken: ct);
            using var viaDb = GpsGallery.FromSearch(model, coordinates, table);
            const int queries = 40, k = 5;
            var features = Enumerable.Range(0, queries).SelectMany(q => SynthGallery.Features(data.Test, q)).ToArray();
            var expected = flat.Predict(features, queries, k);
            var actual = viaDb.Predict(features, queries, k);

            // The table holds float16 copies of the unit embeddings: each component is within 2^-11 relative, so a cosine
            // moves by at most about 1e-3; ranks may differ only between matches whose flat similarities are that close.
            const double tolerance = 2e-3;
            for (int q = 0; q < queries; q++)
            {
                for (int j = 0; j < k; j++)
                {
                    Assert.True(Math.Abs(expected[q][j].Similarity - actual[q][j].Similarity) <= tolerance, $"query {q}, match {j}: {expected[q][j].Similarity} vs {actual[q][j].Similarity}");
                    if (expected[q][j].Index != actual[q][j].Index)
                    {
                        double theirs = expected[q].Concat(flat.Predict(features.AsSpan(q * data.Train.Dimension, data.Train.Dimension), k + 5)).First(m => m.Index == actual[q][j].Index).Similarity;
                        Assert.True(Math.Abs(theirs - expected[q][j].Similarity) <= tolerance, $"query {q}, match {j}: row {actual[q][j].Index} instead of {expected[q][j].Index}, flat similarities {theirs} vs {expected[q][j].Similarity}");
                    }

                    Assert.Equal(coordinates[actual[q][j].Index], actual[q][j].Position);
                }
            }

            using var other = new SimilarityModel(options with { LocationInput = SimilarityLocationInput.EqualEarth }, seed: 4);
            other.eval();
            var refused = Assert.Throws<ArgumentException>(() => GpsGallery.FromSearch(other, coordinates, table));
            Assert.Contains("does not hold this similarity model's embeddings", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

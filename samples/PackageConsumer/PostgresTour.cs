using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.Retrieval;
using GeoToken.SynthGeo;
using Npgsql;

/// <summary>
/// GeoToken.Retrieval.PostgreSql: gallery addresses offline; with a server (pgvector 0.8+), a real push of the SynthGeo
/// gallery, exact search against the in-process exact index, and the predictor searching PostgreSQL.
/// </summary>
internal static class PostgresTour
{
    /// <summary>
    /// Gallery and queries are float16 files and the table stores float16, so pgvector compares the same values exact
    /// search does; only float32 accumulation order and normalisation differ: a few ulps of 1 over 32 terms, under 2e-5
    /// (as tests/GeoToken.Retrieval.PostgreSql.Tests argues for 64).
    /// </summary>
    private const double Tolerance = 2e-5;

    public static async Task<string> RunAsync(string? connectionString, string modelPath, SynthGeoResult synth, CancellationToken cancellationToken)
    {
        var address = PgGalleryAddress.Parse("postgresql://geo:s%40cret@db.example:6543/photos?table=mp16&sslmode=require");
        var b = new NpgsqlConnectionStringBuilder(address.ConnectionString);
        Expect.That(b is { Host: "db.example", Port: 6543, Username: "geo", Password: "s@cret", Database: "photos", SslMode: SslMode.Require } && address.Table == "mp16",
            $"PgGalleryAddress.Parse gave {address.ConnectionString}, table {address.Table}");
        Expect.That(!address.ToString().Contains("cret", StringComparison.Ordinal), $"the address '{address}' shows the password");
        Expect.Throws<ArgumentException>(() => PgGalleryAddress.Parse("postgresql://h/db?table=Drop;Table"), "is not allowed", "a bad table name");
        if (connectionString is null)
        {
            return "PostgreSQL: offline API only (addresses); no server given (GEOTOKEN_CONSUMER_PG), so no push or search";
        }

        await using var source = PgGallery.CreateDataSource(connectionString);
        using var train = GeoDataset.Open(synth.TrainDirectory);
        using var test = GeoDataset.Open(synth.TestDirectory);
        var report = await PgGalleryPush.PushAsync(source, train, new PgPushOptions { Table = "consumer" }, cancellationToken: cancellationToken);
        Expect.That(report.RowsAdded == train.Rows && report.TableRows == train.Rows && report.IndexBuilt,
            $"push: {report.RowsAdded} rows added, {report.TableRows} in the table, index built {report.IndexBuilt}; the gallery has {train.Rows}");
        await using var gallery = await PgGallery.OpenAsync(source, "consumer", cancellationToken);
        Expect.That(gallery.GalleryRows == train.Rows && gallery.Info.ContentId == train.ContentId, $"PgGallery: {gallery.GalleryRows} rows, content {gallery.Info.ContentId}");

        // Exact search in PostgreSQL against the in-process exact index: the same similarities rank by rank, so a row may
        // differ only where two gallery rows tie within the tolerance.
        gallery.SearchDefaults = new PgSearchOptions { Exact = true };
        using var exact = ExactIndex.Create(train.Image, cancellationToken);
        var queries = new NeighborQueries { Vectors = test.Image, K = 10 };
        var found = await gallery.SearchAsync(queries, cancellationToken);
        found.CheckFrom(gallery, queries);
        var expected = await exact.SearchAsync(queries, cancellationToken);
        int ties = CompareRanks(found, expected, "pgvector exact search");

        // The predictor searching the PostgreSQL gallery: the neighbors it reports are exact search's.
        using var predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions
        {
            ModelPath = modelPath,
            Runtimes = [TorchGeoTokenRuntime.Cpu],
            GalleryDirectory = synth.TrainDirectory,
            NeighborSearch = gallery,
            Pool = new CandidatePoolOptions { Samples = 4 },
        }, cancellationToken);
        int k = predictor.Model.NeighborCount;
        var features = new float[test.Dimension];
        test.Image.ReadRow(0, features);
        var p = await predictor.PredictAsync(GeoQuery.FromImageFeatures(features, "test 0"), cancellationToken);
        var want = await exact.SearchAsync(new NeighborQueries { Vectors = test.Image, Count = 1, K = k }, cancellationToken);
        Expect.That(p.Neighbors.Count == k, $"predictor over PostgreSQL: {p.Neighbors.Count} neighbors, the model reads {k}");
        for (int j = 0; j < k; j++)
        {
            double got = p.Neighbors[j].Similarity, sim = want.SimilaritiesOf(0)[j];
            Expect.That(Math.Abs(got - sim) <= Tolerance, $"predictor over PostgreSQL: neighbor {j} has similarity {got}, exact search {sim}");
            Expect.That(p.Neighbors[j].Position == train.GetLocation(p.Neighbors[j].Row), $"predictor over PostgreSQL: neighbor {j} (row {p.Neighbors[j].Row}) is not at its gallery location");
        }

        return $"PostgreSQL: pushed {report.RowsAdded} rows (HNSW built), exact search equals ExactIndex on {test.Rows}×10 ranks ({ties} tie swaps), the predictor searched it";
    }

    /// <summary>Checks that <paramref name="found"/> ranks as <paramref name="expected"/> does; returns how many rows differ (ties).</summary>
    private static int CompareRanks(NeighborResults found, NeighborResults expected, string what)
    {
        Expect.That(found.QueryCount == expected.QueryCount && found.K == expected.K, $"{what}: {found.QueryCount}×{found.K} results, expected {expected.QueryCount}×{expected.K}");
        int ties = 0;
        for (long q = 0; q < found.QueryCount; q++)
        {
            var rows = found.IndicesOf(q);
            var sims = found.SimilaritiesOf(q);
            for (int j = 0; j < found.K; j++)
            {
                double want = expected.SimilaritiesOf(q)[j];
                Expect.That(Math.Abs(sims[j] - want) <= Tolerance, $"{what}: query {q}, rank {j}: row {rows[j]} at {sims[j]}, exact search has row {expected.IndicesOf(q)[j]} at {want}");
                if (rows[j] != expected.IndicesOf(q)[j]) ties++;
            }
        }

        return ties;
    }
}

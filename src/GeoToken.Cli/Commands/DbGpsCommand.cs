using System.CommandLine;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Reranking;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary>
/// <c>geotoken db push-gps</c>: a GPS gallery in PostgreSQL — coordinates with their location embeddings by a similarity
/// model — for <c>geotoken eval --similarity S --gps-gallery postgresql://…</c>.
/// </summary>
internal static class DbGpsCommand
{
    /// <summary>The table written when neither --table nor the URI names one.</summary>
    public const string DefaultTable = "gps_gallery";

    public static Command Create()
    {
        var similarity = new Option<FileInfo>("--similarity") { HelpName = "S.gts", Description = "Similarity model (geotoken similarity or geotoken import geoclip) whose location encoder embeds the coordinates.", Required = true };
        var coordinates = new Option<string>("--coordinates") { Description = "geoclip (GeoCLIP's 100,000, bundled) or train (the --gallery dataset's).", DefaultValueFactory = _ => "geoclip" }.OneOf("geoclip", "train");
        var gallery = new Option<DirectoryInfo?>("--gallery") { HelpName = "DIR", Description = "With --coordinates train: the dataset whose coordinates are the gallery." };
        var connection = new Option<string>("--connection") { HelpName = "URI|CONNSTRING", Description = "postgresql://[user@]host[:port]/db[?table=NAME] or an Npgsql connection string.", Required = true };
        var table = new Option<string?>("--table") { HelpName = "NAME", Description = $"GPS gallery table (default: the URI's table, else {DefaultTable})." };
        var chunk = new Option<int>("--chunk-rows") { HelpName = "N", Description = "Rows per copied and committed chunk (an interrupted push resumes at the first incomplete chunk).", DefaultValueFactory = _ => 10_000 };
        var noIndex = new Option<bool>("--no-index") { Description = "Do not build the HNSW index after loading." };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE", Description = "Write the push report as JSON." };
        var command = new Command("push-gps", "Embed GPS-gallery coordinates with a similarity model's location encoder and load them into a PostgreSQL table (resumable, idempotent), then build its HNSW index.")
        {
            similarity, coordinates, gallery, connection, table, chunk, noIndex, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var modelFile = parse.GetValue(similarity)!;
            if (!modelFile.Exists) throw new CliUsageException($"--similarity {modelFile.FullName} does not exist.");
            string connectionText = parse.GetValue(connection)!;
            var address = DbCommand.Parse(connectionText, parse.GetValue(table));
            if (!address.TableGiven) address = address with { Table = DefaultTable }; // a GPS gallery's own default, not the image gallery's
            var options = new PgPushOptions { Table = address.Table, ChunkRows = parse.GetValue(chunk), BuildIndex = !parse.GetValue(noIndex) };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message);
            }

            var coords = GpsGallerySource.Coordinates(parse.GetValue(coordinates)!, parse.GetValue(gallery)?.FullName, "--coordinates");
            using var model = SimilarityModelFile.Load(modelFile.FullName);
            var err = parse.InvocationConfiguration.Error;
            err.WriteLine(string.Create(CultureInfo.InvariantCulture, $"embedding {coords.Count:N0} coordinates with {modelFile.Name} ({model.Options.EmbeddingDimension}-d)…"));
            using var embeddings = GpsGallery.EmbedCoordinates(model, coords, cancellationToken: ct);

            // The embeddings become a gallery dataset (IMG_ID gps-N), pushed like any gallery: binary COPY in chunks, resumable
            // (the same model and coordinates give the same dataset content id), idempotent by IMG_ID.
            var folder = Directory.CreateTempSubdirectory("geotoken-gps-");
            try
            {
                string data = Path.Combine(folder.FullName, "gps");
                WriteDataset(data, coords, embeddings, ct);
                using var dataset = GeoDataset.Open(data);
                await DbCommand.RunPushAsync(parse, dataset, address, options, parse.GetValue(json), ct).ConfigureAwait(false);
            }
            finally
            {
                folder.Delete(recursive: true);
            }

            return 0;
        });
        return command.WithExamples("geotoken db push-gps --similarity geoclip.gts --connection \"postgresql://geo@%2Fvar%2Frun%2Fpostgresql/geo?table=gps100k\"", "geotoken db push-gps --similarity S/sim.gts --coordinates train --gallery S/train --connection postgresql://localhost/geo");
    }

    private static void WriteDataset(string folder, IReadOnlyList<Geometry.LatLng> coordinates, FeatureMatrix embeddings, CancellationToken ct)
    {
        int d = embeddings.Columns;
        using var writer = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions { ElementType = FeatureElementType.Float16, ImageDimension = d, ExpectedRows = coordinates.Count });
        const int block = 4096;
        var rowBuffer = new float[d];
        var features = new float[block * d];
        var ids = new string[block];
        var locations = new Geometry.LatLng[block];
        for (int start = 0; start < coordinates.Count; start += block)
        {
            ct.ThrowIfCancellationRequested();
            int n = Math.Min(block, coordinates.Count - start);
            for (int i = 0; i < n; i++)
            {
                ids[i] = string.Create(CultureInfo.InvariantCulture, $"gps-{start + i}");
                locations[i] = coordinates[start + i];
                embeddings.ReadRow(start + i, rowBuffer);
                rowBuffer.CopyTo(features.AsSpan(i * d, d));
            }

            writer.WriteRows(ids.AsSpan(0, n), locations.AsSpan(0, n), features.AsSpan(0, n * d), default, default, default);
        }

        writer.Commit();
    }
}

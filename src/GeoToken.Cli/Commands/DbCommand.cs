using System.CommandLine;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken db push|info</c>: galleries in PostgreSQL with pgvector.</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var gallery = new Option<DirectoryInfo>("--gallery") { HelpName = "DIR", Description = "Gallery dataset folder to load.", Required = true };
        var connection = new Option<string>("--connection") { HelpName = "URI|CONNSTRING", Description = "postgresql://[user@]host[:port]/db[?table=NAME] (a host starting with / is a socket folder) or an Npgsql connection string.", Required = true };
        var table = new Option<string?>("--table") { HelpName = "NAME", Description = $"Gallery table (default: the URI's table, else {PgGalleryAddress.DefaultTable})." };
        var chunk = new Option<int>("--chunk-rows") { HelpName = "N", Description = "Rows per copied and committed chunk (an interrupted push resumes at the first incomplete chunk).", DefaultValueFactory = _ => 10_000 };
        var noIndex = new Option<bool>("--no-index") { Description = "Do not build the HNSW index after loading." };
        var m = new Option<int>("--hnsw-m") { HelpName = "M", Description = "HNSW graph degree m.", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<int>("--ef-construction") { HelpName = "N", Description = "HNSW build candidate list ef_construction.", DefaultValueFactory = _ => 64 };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE", Description = "Write the push report (rows added, chunks skipped, times, sizes) as JSON." };
        var push = new Command("push", "Load a gallery dataset into a PostgreSQL table (binary COPY in chunks; resumable, idempotent by IMG_ID), then build its HNSW index.")
        {
            gallery, connection, table, chunk, noIndex, m, efConstruction, json,
        };
        push.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(gallery)!;
            if (!dir.Exists) throw new CliUsageException($"--gallery {dir.FullName} does not exist.");
            var address = Parse(parse.GetValue(connection)!, parse.GetValue(table));
            var options = new PgPushOptions
            {
                Table = address.Table,
                ChunkRows = parse.GetValue(chunk),
                BuildIndex = !parse.GetValue(noIndex),
                HnswM = parse.GetValue(m),
                EfConstruction = parse.GetValue(efConstruction),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message);
            }

            using var dataset = GeoDataset.Open(dir.FullName);
            await RunPushAsync(parse, dataset, address, options, parse.GetValue(json), ct).ConfigureAwait(false);
            return 0;
        });

        var infoConnection = new Option<string>("--connection") { HelpName = "URI|CONNSTRING", Description = "postgresql://…?table=NAME or an Npgsql connection string.", Required = true };
        var infoTable = new Option<string?>("--table") { HelpName = "NAME", Description = "Gallery table (default: the URI's, else gallery)." };
        var info = new Command("info", "What the metadata table records of a gallery table, and its current size.") { infoConnection, infoTable };
        info.SetAction(async (parse, ct) =>
        {
            var address = Parse(parse.GetValue(infoConnection)!, parse.GetValue(infoTable));
            await using var g = await PgGallery.OpenAsync(address, ct).ConfigureAwait(false);
            var i = g.Info;
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{address}: {g.GalleryRows:N0} rows ({i.DatasetRows:N0} from dataset {i.ContentId ?? "(none)"}, the rest added live), {i.Dimension}-d {string.Join("+", i.Views)}; loaded {(i.LoadedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "incompletely")}, HNSW index {(i.IndexedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "not built")}."));
            return 0;
        });

        return new Command("db", "Galleries in PostgreSQL with pgvector.") {
            push.WithExamples("geotoken db push --gallery mp16/train --connection \"postgresql://geo@%2Fvar%2Frun%2Fpostgresql/geo?table=mp16\"", "geotoken db push --gallery S/train --connection postgresql://localhost/geo --table synth --chunk-rows 50000"),
            DbGpsCommand.Create(),
            info.WithExamples("geotoken db info --connection \"postgresql://geo@%2Fvar%2Frun%2Fpostgresql/geo?table=mp16\""),
        }.WithExamples("geotoken db push --gallery S/train --connection postgresql://localhost/geo?table=synth", "geotoken db info --connection postgresql://localhost/geo?table=synth");
    }

    /// <summary>Pushes <paramref name="dataset"/> with a progress display, then prints the report (and writes it as JSON).</summary>
    internal static async Task RunPushAsync(ParseResult parse, GeoDataset dataset, PgGalleryAddress address, PgPushOptions options, FileInfo? json, CancellationToken ct)
    {
        await using var source = PgGallery.CreateDataSource(address.ConnectionString);
        var report = await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p =>
            PgGalleryPush.PushAsync(source, dataset, options, new Progress<PgPushProgress>(x => p.Report(new(x.Stage, x.RowsDone, x.Rows))), ct)).ConfigureAwait(false);
        parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{address}: {report.RowsAdded:N0} rows added ({report.ChunksLoaded} chunks copied, {report.ChunksSkipped} already present{(report.RowsAlreadyPresent > 0 ? $", {report.RowsAlreadyPresent:N0} rows whose IMG_ID was present" : "")}) in {report.LoadTime.TotalSeconds:F1} s; "
            + $"{report.TableRows:N0} rows, table {report.TableBytes / 1048576.0:F1} MB; {(report.IndexBuilt ? $"HNSW index built in {report.IndexTime.TotalSeconds:F1} s" : "HNSW index unchanged")}, {report.IndexBytes / 1048576.0:F1} MB."));
        if (json is not null) JsonReport.Write(json.FullName, report);
    }

    internal static PgGalleryAddress Parse(string connection, string? table)
    {
        try
        {
            return PgGalleryAddress.Parse(connection, table);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--connection: {e.Message}");
        }
    }
}

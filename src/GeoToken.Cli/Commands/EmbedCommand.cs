using System.CommandLine;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken embed</c>: a similarity model's L2-normalised location or image embeddings as a <c>.npy</c> file.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var similarity = new Option<FileInfo>("--similarity") { HelpName = "FILE", Description = "Similarity model (geotoken similarity or geotoken import geoclip).", Required = true };
        var locations = new Option<FileInfo?>("--locations") { HelpName = "FILE.csv", Description = "CSV with LAT and LON columns (degrees): writes one location embedding per row." };
        var features = new Option<FileInfo?>("--features") { HelpName = "FILE.npy", Description = "Float32/float16 .npy of image features (rows, d_in): writes one image embedding per row." };
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "The .npy to write: float32 (rows, D), each row L2-normalised (written atomically).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Rows embedded together.", DefaultValueFactory = _ => 4096 };
        var cmd = new Command("embed", "Embed locations (CSV) or image features (.npy) with a similarity model's encoders.")
        {
            similarity, locations, features, output, force, batch,
        };
        cmd.SetAction((parse, ct) =>
        {
            var csvFile = parse.GetValue(locations);
            var npyFile = parse.GetValue(features);
            if ((csvFile is null) == (npyFile is null)) throw new CliUsageException("Give exactly one of --locations CSV and --features NPY.");
            int chunk = parse.GetValue(batch);
            if (chunk < 1) throw new CliUsageException($"--batch {chunk}: it must be at least 1.");
            string path = parse.GetValue(output)!.FullName;
            OutputFile.RefuseOverwrite(path, parse.GetValue(force));
            using var model = SimilarityModelFile.Load(parse.GetValue(similarity)!.FullName);
            long rows = csvFile is not null
                ? EmbedLocations(model, csvFile.FullName, path, chunk, ct)
                : EmbedFeatures(model, npyFile!.FullName, path, chunk, ct);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {rows} × {model.Options.EmbeddingDimension} float32 {(csvFile is not null ? "location" : "image")} embeddings (L2-normalised)"));
            return Task.FromResult(0);
        });
        return cmd.WithExamples("geotoken embed --similarity geoclip.gts --locations coordinates_100K.csv --out gps100k.npy", "geotoken embed --similarity S/sim.gts --features S/test/image.npy --out test-emb.npy");
    }

    internal static long EmbedLocations(SimilarityModel model, string csvPath, string outPath, int chunk, CancellationToken ct)
    {
        using var csv = CsvReader.Open(csvPath);
        int lat = csv.RequireColumn("latitude", "LAT", "latitude", "lat");
        int lon = csv.RequireColumn("longitude", "LON", "longitude", "lon", "lng");
        using var writer = NpyFile.CreateWriter(outPath, NpyDataType.Float32, model.Options.EmbeddingDimension);
        var buffer = new List<LatLng>(chunk);
        void Flush()
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            writer.WriteRows(model.EmbedPositions(buffer.ToArray()).cpu().data<float>().ToArray());
            buffer.Clear();
        }

        while (csv.Read())
        {
            buffer.Add(new LatLng(csv.GetLatitude(lat), csv.GetLongitude(lon)));
            if (buffer.Count == chunk) Flush();
        }

        if (buffer.Count > 0) Flush();
        if (writer.RowsWritten == 0) throw new InvalidDataException($"{csvPath} has a header but no rows.");
        writer.Commit();
        return writer.RowsWritten;
    }

    internal static long EmbedFeatures(SimilarityModel model, string npyPath, string outPath, int chunk, CancellationToken ct)
    {
        using var matrix = NpyFile.OpenFeatures(npyPath);
        int d = model.Options.FeatureDimension;
        if (matrix.Columns != d) throw new InvalidDataException($"{npyPath} holds {matrix.Columns}-d features; the similarity model reads {d}-d features.");
        if (matrix.Rows == 0) throw new InvalidDataException($"{npyPath} has no rows.");
        using var writer = NpyFile.CreateWriter(outPath, NpyDataType.Float32, model.Options.EmbeddingDimension, matrix.Rows);
        var buffer = new float[(long)Math.Min(chunk, matrix.Rows) * d];
        for (long start = 0; start < matrix.Rows; start += chunk)
        {
            ct.ThrowIfCancellationRequested();
            int n = (int)Math.Min(chunk, matrix.Rows - start);
            var span = buffer.AsSpan(0, n * d);
            matrix.ReadRows(start, n, span);
            int bad = FirstNonFinite(span);
            if (bad >= 0) throw new InvalidDataException($"{npyPath}: row {start + bad / d} (0-based) has a non-finite value in column {bad % d}.");
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            writer.WriteRows(model.EmbedImages(tensor(span.ToArray(), [n, d])).cpu().data<float>().ToArray());
        }

        writer.Commit();
        return writer.RowsWritten;
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }

        return -1;
    }
}

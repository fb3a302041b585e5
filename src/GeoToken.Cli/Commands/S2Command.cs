using System.CommandLine;
using System.Globalization;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken s2</c>: S2 cell ids and tokens of positions.</summary>
internal static class S2Command
{
    public static Command Create()
    {
        var input = new Option<FileInfo?>("--input") { HelpName = "FILE.csv", Description = "CSV with a header and latitude/longitude columns (lat/latitude, lon/lng/longitude; any case)." };
        var output = new Option<FileInfo?>("--output") { HelpName = "FILE.csv", Description = "Output CSV: lat,lon,cell_id,token (cell_id unsigned decimal, token S2 hex)." };
        var level = new Option<int>("--level") { HelpName = "LEVEL", Description = "S2 level 0..30.", DefaultValueFactory = _ => 30 };
        var lat = new Option<double?>("--lat") { HelpName = "DEGREES", Description = "Latitude of one point, in degrees." };
        var lon = new Option<double?>("--lon") { HelpName = "DEGREES", Description = "Longitude of one point, in degrees." };
        var cmd = new Command("s2", "S2 cell ids and tokens of positions.") { input, output, level, lat, lon };
        cmd.SetAction(parse =>
        {
            int l = parse.GetValue(level);
            if (l is < 0 or > S2CellId.MaxLevel) throw new CliUsageException($"--level {l} is outside 0..30.");
            var writer = parse.InvocationConfiguration.Output;
            if (parse.GetValue(lat) is { } la && parse.GetValue(lon) is { } lo)
            {
                if (parse.GetValue(input) is not null) throw new CliUsageException("Give either --input or --lat/--lon, not both.");
                if (LatLng.TryCreate(la, lo, out var p) is { } err) throw new CliUsageException(err);
                var cell = S2CellId.FromLatLng(p).Parent(l);
                var centre = cell.ToLatLng();
                writer.WriteLine("lat,lon,cell_id,token");
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{la:R},{lo:R},{cell.Id},{cell.ToToken()}"));
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# face {cell.Face}, level {cell.Level}, centre {centre.Latitude:F6},{centre.Longitude:F6}"));
                return 0;
            }

            if (parse.GetValue(lat) is not null || parse.GetValue(lon) is not null) throw new CliUsageException("--lat and --lon go together.");
            var inFile = parse.GetValue(input) ?? throw new CliUsageException("Give --input IN.csv --output OUT.csv, or --lat X --lon Y.");
            var outFile = parse.GetValue(output) ?? throw new CliUsageException("--output OUT.csv is required with --input.");
            long rows = Convert(inFile.FullName, outFile.FullName, l);
            parse.InvocationConfiguration.Error.WriteLine($"{rows} rows → {outFile.FullName} (level {l})");
            return 0;
        });
        return cmd.WithExamples("geotoken s2 --lat 48.8584 --lon 2.2945 --level 20", "geotoken s2 --input points.csv --output cells.csv");
    }

    /// <summary>Converts every row; the output appears only when every row was valid.</summary>
    internal static long Convert(string inputPath, string outputPath, int level)
    {
        long rows = 0;
        AtomicFile.Write(outputPath, stream =>
        {
            using var csv = CsvReader.Open(inputPath);
            int latCol = csv.RequireColumn("latitude", "lat", "latitude");
            int lonCol = csv.RequireColumn("longitude", "lon", "lng", "longitude");
            using var w = CsvWriter.Create(stream);
            w.WriteRow("lat", "lon", "cell_id", "token");
            while (csv.Read())
            {
                double la = csv.GetLatitude(latCol), lo = csv.GetLongitude(lonCol);
                var cell = S2CellId.FromLatLng(new LatLng(la, lo)).Parent(level);
                w.Write(la);
                w.Write(lo);
                w.Write(cell.Id);
                w.Write(cell.ToToken());
                w.EndRow();
                rows++;
            }
        });
        return rows;
    }
}

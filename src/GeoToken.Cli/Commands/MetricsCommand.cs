using System.CommandLine;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken metrics</c>: the standard geolocation table for a predictions CSV.</summary>
internal static class MetricsCommand
{
    public static Command Create()
    {
        var predictions = new Option<FileInfo>("--predictions") { HelpName = "FILE.csv", Description = "CSV with true and predicted coordinates.", Required = true };
        var trueLat = new Option<string>("--true-lat") { HelpName = "COLUMN", Description = "Column of the true latitude.", DefaultValueFactory = _ => "LAT" };
        var trueLon = new Option<string>("--true-lon") { HelpName = "COLUMN", Description = "Column of the true longitude.", DefaultValueFactory = _ => "LON" };
        var predLat = new Option<string>("--pred-lat") { HelpName = "COLUMN", Description = "Column of the predicted latitude.", DefaultValueFactory = _ => "LAT_pred" };
        var predLon = new Option<string>("--pred-lon") { HelpName = "COLUMN", Description = "Column of the predicted longitude.", DefaultValueFactory = _ => "LON_pred" };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Also write the metrics as JSON. - writes it to standard output (the report then goes to standard error)." };
        var cmd = new Command("metrics", "Accuracy at 1/25/200/750/2500 km, median and mean error of a predictions CSV.")
        {
            predictions, trueLat, trueLon, predLat, predLon, json,
        };
        cmd.SetAction(parse =>
        {
            var m = Compute(parse.GetValue(predictions)!.FullName, parse.GetValue(trueLat)!, parse.GetValue(trueLon)!,
                parse.GetValue(predLat)!, parse.GetValue(predLon)!);
            MetricsTable.Write(parse.InvocationConfiguration.Output, [("predictions", m)]);
            if (parse.GetValue(json) is { } j) JsonReport.Write(j.FullName, MetricsJson.From(m));
            return 0;
        });
        return cmd.WithExamples("geotoken metrics --predictions test.csv", "geotoken metrics --predictions test.csv --pred-lat LAT_pred_beam --pred-lon LON_pred_beam --json -");
    }

    internal static GeoMetrics Compute(string path, string trueLat, string trueLon, string predLat, string predLon)
    {
        using var csv = CsvReader.Open(path);
        int tl = csv.RequireColumn("true latitude", trueLat), tn = csv.RequireColumn("true longitude", trueLon);
        int pl = csv.RequireColumn("predicted latitude", predLat), pn = csv.RequireColumn("predicted longitude", predLon);
        var distances = new List<double>();
        while (csv.Read())
        {
            var t = new LatLng(csv.GetLatitude(tl), csv.GetLongitude(tn));
            var p = new LatLng(csv.GetLatitude(pl), csv.GetLongitude(pn));
            distances.Add(Geodesy.HaversineKm(t, p));
        }

        if (distances.Count == 0) throw new InvalidDataException($"{path} has a header but no rows.");
        return GeoMetrics.FromDistances(distances.ToArray());
    }
}

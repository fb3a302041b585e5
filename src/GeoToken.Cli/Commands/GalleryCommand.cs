using System.CommandLine;
using GeoToken.Photos;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken gallery</c>: a photo folder (GPS from EXIF) encoded into a gallery dataset, incrementally.</summary>
internal static class GalleryCommand
{
    public static Command Create()
    {
        var photos = new Option<DirectoryInfo>("--photos") { HelpName = "DIR", Description = "Folder of photos (searched recursively); GPS is read from EXIF.", Required = true };
        var encoder = new EncoderSettings(required: true);
        var output = new Option<DirectoryInfo>("--out") { HelpName = "DIR", Description = "Dataset folder to write or update (meta.csv, image.npy, scan-report.csv).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the files of a non-empty --out folder that this command did not write (it is refused otherwise)." };
        var cmd = new Command("gallery", "Encode a folder of geotagged photos into a gallery dataset; re-running encodes only new or changed photos.")
        {
            photos, output, force,
        };
        encoder.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            using var onnx = encoder.Create(parse)!;
            var builder = new PhotoGalleryBuilder(onnx, new PhotoGalleryOptions { Overwrite = parse.GetValue(force) });
            var result = await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p =>
                builder.BuildAsync(parse.GetValue(photos)!.FullName, parse.GetValue(output)!.FullName,
                    new Progress<GalleryBuildProgress>(g => p.Report(new(g.Stage.ToString(), g.Completed, g.Total))), ct)).ConfigureAwait(false);
            var o = parse.InvocationConfiguration.Output;
            o.WriteLine($"{result.DatasetFolder}: {result.Rows} photos ({result.Added.Count} added, {result.Updated.Count} updated, {result.Removed.Count} removed, {result.Unchanged} unchanged; {result.Encoded} encoded)");
            foreach (var p in result.WithoutGps) o.WriteLine($"no GPS (not in the gallery): {p.RelativePath}");
            foreach (var p in result.Excluded.Where(p => p.Status is not (PhotoStatus.NoGps or PhotoStatus.BadGps))) o.WriteLine($"unusable ({p.Status}): {p.RelativePath}: {p.Problem}");
            o.WriteLine($"report: {result.ReportPath}");
            return 0;
        });
        return cmd.WithExamples("geotoken gallery --photos ~/Pictures --encoder clip.onnx --out photos-gallery");
    }
}

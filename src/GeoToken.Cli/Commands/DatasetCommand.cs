using System.CommandLine;
using System.Globalization;
using GeoToken.Data;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken dataset verify|rehash DIR</c>: check a dataset folder in full, or re-derive its sidecar and hashes.</summary>
internal static class DatasetCommand
{
    public static Command Create()
    {
        var verifyDir = new Argument<DirectoryInfo>("DIR") { Description = "Dataset folder." };
        var verify = new Command("verify", "Check every file of a dataset against the SHA-256 its dataset.json records, every coordinate, and that image ids do not repeat.")
        {
            verifyDir,
        };
        verify.SetAction((parse, ct) =>
        {
            var dir = parse.GetValue(verifyDir)!;
            if (!dir.Exists) throw new CliUsageException($"{dir.FullName} does not exist.");
            using var dataset = GeoDataset.Open(new GeoDatasetOptions { Folder = dir.FullName, Verify = true });
            dataset.LoadLocations();
            string state = dataset.Integrity switch
            {
                DatasetIntegrity.Verified => "every file matches dataset.json",
                DatasetIntegrity.NoHashes => $"dataset.json records no hashes (an older version wrote it); coordinates and ids are valid. Run 'geotoken dataset rehash {dir.FullName}' to record them",
                _ => "no dataset.json: files opened as they are; coordinates and ids are valid",
            };
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{dir.FullName}: {dataset.Rows:N0} rows, {string.Join(", ", dataset.Modalities.Select(m => $"{m.FileName()} ({dataset.GetFeatures(m).Columns}-d)"))}; {state}."));
            return Task.FromResult(dataset.Integrity is DatasetIntegrity.Verified ? 0 : GeoTokenCli.ExitFailure);
        });

        verify.WithExamples("geotoken dataset verify S/train");

        var rehashDir = new Argument<DirectoryInfo>("DIR") { Description = "Dataset folder (meta.csv and image.npy, optional loc.npy and text.npy)." };
        var rehash = new Command("rehash", "Accept a dataset folder as it is now: validate meta.csv, rewrite latlon.npy from it and record every file's SHA-256 in dataset.json (after an intended edit of meta.csv, or for folders written by older versions).")
        {
            rehashDir,
        };
        rehash.SetAction((parse, ct) =>
        {
            var dir = parse.GetValue(rehashDir)!;
            if (!dir.Exists) throw new CliUsageException($"{dir.FullName} does not exist.");
            long rows = GeoDatasetWriter.Rehash(dir.FullName, ct);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{dir.FullName}: {rows:N0} rows; wrote {GeoDataset.CoordinatesFileName} from meta.csv and dataset.json with the SHA-256 of every file."));
            return Task.FromResult(0);
        });

        rehash.WithExamples("geotoken dataset rehash V/val");
        return new Command("dataset", "Check or re-derive a dataset folder.") { verify, rehash }.WithExamples("geotoken dataset verify S/train", "geotoken dataset rehash V/val");
    }
}

using System.CommandLine;
using System.Globalization;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken index</c>: build the hierarchical cluster index of a gallery.</summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var gallery = new Option<DirectoryInfo>("--gallery") { HelpName = "DIR", Description = "Gallery dataset folder.", Required = true };
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "Index file to write.", Required = true };
        var clusters = new Option<int>("--clusters") { HelpName = "N", Description = "Top-level clusters.", DefaultValueFactory = _ => 800 };
        var levels = new Option<int>("--levels") { HelpName = "N", Description = "Tree levels (1 = flat inverted file).", DefaultValueFactory = _ => 2 };
        var recall = new Option<double>("--target-recall") { HelpName = "RECALL", Description = "Recall@10 the default beam is calibrated to.", DefaultValueFactory = _ => 0.95 };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Write the build report as JSON. - writes it to standard output (the report then goes to standard error)." };
        var cmd = new Command("index", "Build the hierarchical k-means cluster index of a gallery (beam descent at search time).")
        {
            gallery, output, clusters, levels, recall, json,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new ClusterIndexOptions { Clusters = parse.GetValue(clusters), Levels = parse.GetValue(levels), CalibrationRecall = parse.GetValue(recall) };
            string galleryDir = parse.GetValue(gallery)!.FullName, path = parse.GetValue(output)!.FullName;
            var report = await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p => Task.Run(() =>
                NeighborSearch.BuildIndex(galleryDir, path, options, new Progress<IndexBuildProgress>(b => p.Report(new(b.Stage.ToString(), b.Done, b.Total))), ct), ct)).ConfigureAwait(false);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"index: {report.Path}: {report.Rows:N0} rows, nodes per level {string.Join("/", report.NodesPerLevel)}, default beam {string.Join("/", report.DefaultProbes)}{(report.DefaultLeafMargin is double lm ? $" with leaf margin {lm:0.###}" : "")}, built in {report.BuildTime.TotalSeconds:F1} s"));
            if (parse.GetValue(json) is { } j) JsonReport.Write(j.FullName, report);
            return 0;
        });
        return cmd.WithExamples("geotoken index --gallery S/train --out S/train.gtci");
    }
}

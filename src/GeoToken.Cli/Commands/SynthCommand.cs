using System.CommandLine;
using GeoToken.Data;
using GeoToken.SynthGeo;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken synth</c>: generate a SynthGeo benchmark (train and test datasets).</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { HelpName = "DIR", Description = "Output folder; DIR/train and DIR/test are written.", Required = true };
        var train = new Option<long>("--train") { HelpName = "N", Description = "Training (gallery) rows.", DefaultValueFactory = _ => 100_000 };
        var test = new Option<int>("--test") { HelpName = "N", Description = "Test rows (2,997 = each IM2GPS3K location once).", DefaultValueFactory = _ => 2997 };
        var dim = new Option<int>("--dim") { HelpName = "D", Description = "Embedding dimension.", DefaultValueFactory = _ => 512 };
        var modalities = new Option<int>("--modalities") { HelpName = "N", Description = "1 (image) or 3 (image, image→location, image→text).", DefaultValueFactory = _ => 1 }.OneOf("1", "3");
        var seed = new Option<ulong>("--seed") { HelpName = "SEED", Description = "Random seed (same seed → bit-identical files).", DefaultValueFactory = _ => 1UL };
        var locations = new Option<FileInfo?>("--test-locations") { HelpName = "FILE.csv", Description = "CSV of test locations (lat/latitude, lon/lng/longitude columns); default: IM2GPS3K." };
        var float32 = new Option<bool>("--float32") { Description = "Store features as float32 instead of float16." };
        var cmd = new Command("synth", "Generate SynthGeo: simulated image embeddings on real geography (MP-16 density, IM2GPS3K test locations).")
        {
            output, train, test, dim, modalities, seed, locations, float32,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new SynthGeoOptions
            {
                OutputDirectory = parse.GetValue(output)!.FullName,
                TrainRows = parse.GetValue(train),
                TestRows = parse.GetValue(test),
                Dimension = parse.GetValue(dim),
                Modalities = parse.GetValue(modalities),
                Seed = parse.GetValue(seed),
                TestLocationsCsv = parse.GetValue(locations)?.FullName,
                ElementType = parse.GetValue(float32) ? FeatureElementType.Float32 : FeatureElementType.Float16,
            };
            options.Validate();
            var err = parse.InvocationConfiguration.Error;
            var result = await ProgressDisplay.RunAsync(err, p =>
                SynthGeoGenerator.GenerateAsync(options, new Progress<SynthGeoProgress>(s => p.Report(new(s.Split, s.RowsDone, s.RowsTotal))), ct)).ConfigureAwait(false);
            parse.InvocationConfiguration.Output.WriteLine(
                $"wrote {result.TrainRows:N0} training rows to {result.TrainDirectory} and {result.TestRows:N0} test rows to {result.TestDirectory} in {result.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd.WithExamples("geotoken synth --out S --train 500000 --test 2997 --modalities 3", "geotoken synth --out V --train 1000 --test 20000 --test-locations geoclip.csv");
    }
}

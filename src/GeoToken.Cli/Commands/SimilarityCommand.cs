using System.CommandLine;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Model.Training;
using GeoToken.Reranking;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken similarity</c>: train the GeoCLIP-style location encoder for the similarity reranker and the GPS gallery.</summary>
internal static class SimilarityCommand
{
    public static Command Create()
    {
        var train = new Option<DirectoryInfo>("--train") { HelpName = "DIR", Description = "Training dataset folder (image features and locations).", Required = true };
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "Similarity model file to write (use with eval/predict --similarity).", Required = true };
        var epochs = new Option<int>("--epochs") { HelpName = "N", Description = "Epochs.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Image–location pairs per contrastive step.", DefaultValueFactory = _ => 512 };
        var lr = new Option<double>("--lr") { HelpName = "RATE", Description = "Learning rate.", DefaultValueFactory = _ => 3e-4 };
        var noise = new Option<double>("--noise-km") { HelpName = "KM", Description = "Gaussian noise added to training locations, in km (GeoCLIP's augmentation).", DefaultValueFactory = _ => 0 };
        var queue = new Option<int>("--gps-queue") { HelpName = "N", Description = "Past training locations kept as extra negatives (GeoCLIP's dynamic queue: 4096); 0 for none.", DefaultValueFactory = _ => 0 };
        var equalEarth = new Option<bool>("--equal-earth") { Description = "GeoCLIP's location input (Equal Earth projection of latitude/longitude) instead of 3-D unit vectors." };
        var seed = new Option<ulong>("--seed") { HelpName = "SEED", Description = "Seed (weights, Fourier features, shuffling).", DefaultValueFactory = _ => 1UL };
        var maxMinutes = new Option<double?>("--max-minutes") { HelpName = "MINUTES", Description = "Stop after this much training time and save the model as it is." };
        var cmd = new Command("similarity", "Train the location encoder (random Fourier features at several scales) contrastively against image features.")
        {
            train, output, epochs, batch, lr, noise, queue, equalEarth, seed, maxMinutes,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            using var dataset = GeoDataset.Open(parse.GetValue(train)!.FullName);
            var options = new SimilarityTrainingOptions
            {
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                LocationNoiseKm = parse.GetValue(noise),
                GpsQueueSize = parse.GetValue(queue),
                Seed = parse.GetValue(seed),
            };
            options.Validate();
            var shape = parse.GetValue(equalEarth) ? SimilarityModelOptions.GeoClipEqualEarth : SimilarityModelOptions.GeoClip;
            using var model = new SimilarityModel(shape with { FeatureDimension = dataset.Dimension }, options.Seed);
            using var limit = parse.GetValue(maxMinutes) is double m ? new CancellationTokenSource(TimeSpan.FromMinutes(m)) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, limit.Token);
            SimilarityTrainingProgress? last = null;
            bool stoppedByLimit = false;
            await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p => Task.Run(() =>
            {
                try
                {
                    return SimilarityTrainer.Train(model, dataset, options, new Progress<SimilarityTrainingProgress>(r =>
                    {
                        last = r;
                        p.Report(new(string.Create(CultureInfo.InvariantCulture, $"similarity: epoch {r.Epoch + 1}, loss {r.Loss:F3}"), r.Epoch * (double)r.StepsPerEpoch + r.Step, options.Epochs * (double)r.StepsPerEpoch));
                    }), linked.Token);
                }
                catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    stoppedByLimit = true;
                    return null;
                }
            }, CancellationToken.None)).ConfigureAwait(false);
            string path = parse.GetValue(output)!.FullName;
            SimilarityModelFile.Save(model, path);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"similarity model: {path}; {(last is { } l ? $"epoch {l.Epoch + 1}, step {l.Step}/{l.StepsPerEpoch}, loss {l.Loss:F3}" : "no steps")}{(stoppedByLimit ? " (time limit reached)" : "")}"));
            return 0;
        });
        return cmd.WithExamples("geotoken similarity --train S/train --out S/sim.gts --max-minutes 5", "geotoken similarity --train S/train --out S/sim.gts --equal-earth --gps-queue 4096");
    }
}

using System.CommandLine;
using System.Globalization;
using GeoToken.Decoding;
using GeoToken.Model.Training;
using GeoToken.Reranking;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken reward</c>: fine-tune the reward head of a trained model on its training pools.</summary>
internal static class RewardCommand
{
    public static Command Create()
    {
        var model = ModelSetting.Create();
        var train = new Option<DirectoryInfo>("--train") { HelpName = "DIR", Description = "The model's training dataset folder.", Required = true };
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "Reward head file to write (use with eval/predict --reward).", Required = true };
        var rows = new Option<int?>("--rows") { HelpName = "N", Description = "Train on this many random training images per epoch (default: all)." };
        var epochs = new Option<int>("--epochs") { HelpName = "N", Description = "Epochs.", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Images per step (each brings its whole pool).", DefaultValueFactory = _ => 32 };
        var samples = new Option<int>("--samples") { HelpName = "N", Description = "Samples per pool (plus greedy).", DefaultValueFactory = _ => 30 };
        var lr = new Option<double>("--lr") { HelpName = "RATE", Description = "Learning rate of the head.", DefaultValueFactory = _ => 1e-3 };
        var index = new Option<FileInfo?>("--index") { HelpName = "FILE", Description = "Cluster index of the training gallery for computing neighbors (default: exact search)." };
        var device = CliChoices.Device("Where the model runs: the CPU, the first CUDA GPU, or the N-th (0-based).");
        var group = NeighborGroupSetting.Create();
        var recipe = RecipeSetting.Create("hidden 2048, two bins, the whole transformer fine-tuned and saved with the head, AdamW 5e-5 ×0.9 per epoch, 40 epochs of 512 images with 10 samples each");
        var cmd = new Command("reward", "Train the paper's reward head (is a candidate within 200 km?) on pools the model samples for its training images.")
        {
            model, train, output, rows, epochs, batch, samples, lr, index, group, device, recipe,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var chosen = RecipeSetting.Resolve(parse, recipe);
            var options = chosen.IsPaper
                ? chosen.RewardTraining with
                {
                    // The reference's recipe; options given explicitly override it.
                    Epochs = RecipeSetting.Given(parse, epochs) ? parse.GetValue(epochs) : chosen.RewardTraining.Epochs,
                    BatchSize = RecipeSetting.Given(parse, batch) ? parse.GetValue(batch) : chosen.RewardTraining.BatchSize,
                    MaxRows = parse.GetValue(rows),
                    LearningRate = RecipeSetting.Given(parse, lr) ? parse.GetValue(lr) : chosen.RewardTraining.LearningRate,
                    Pool = RecipeSetting.Given(parse, samples) ? chosen.RewardTraining.Pool with { Samples = parse.GetValue(samples) } : chosen.RewardTraining.Pool,
                }
                : new RewardTrainingOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    MaxRows = parse.GetValue(rows),
                    LearningRate = parse.GetValue(lr),
                    Pool = new CandidatePoolOptions { Samples = parse.GetValue(samples) },
                };
            RewardTrainingProgress? last = null;
            var result = await ProgressDisplay.RunAsync(parse.InvocationConfiguration.Error, p => RewardTrainingRun.RunAsync(
                parse.GetValue(model)!.FullName, parse.GetValue(train)!.FullName, parse.GetValue(output)!.FullName, options,
                new Retrieval.NeighborCacheOptions
                {
                    IndexPath = parse.GetValue(index)?.FullName,
                    GroupColumn = NeighborGroupSetting.Resolve(parse.GetValue(group)!, parse.GetValue(train)!.FullName),
                }, parse.GetValue(device)!,
                new Progress<(string Stage, double Done, double Total, RewardTrainingProgress? Report)>(r =>
                {
                    last = r.Report ?? last;
                    p.Report(new(r.Report is { } t ? string.Create(CultureInfo.InvariantCulture, $"reward: loss {t.Loss:F3}, accuracy {t.Accuracy:P0}") : r.Stage, r.Done, r.Total));
                }), ct)).ConfigureAwait(false);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"reward head: {parse.GetValue(output)!.FullName}; {result.Steps} steps on {result.Candidates:N0} candidates ({result.PositiveRate:P1} within 200 km); last epoch loss {result.EpochLosses[^1]:F3}, accuracy {result.EpochAccuracies[^1]:P1}"));
            return 0;
        });
        return cmd.WithExamples("geotoken reward --model S/small.gtm --train S/train --out S/reward.gtr --rows 6000 --index S/train.gtci");
    }
}

using System.CommandLine;
using System.Globalization;
using GeoToken.Model;
using GeoToken.Model.Training;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken train</c>: train a GeoToken model on dataset folders.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var train = new Option<DirectoryInfo>("--train") { HelpName = "DIR", Description = "Training dataset folder (also the retrieval gallery).", Required = true };
        var val = new Option<DirectoryInfo?>("--val") { HelpName = "DIR", Description = "Validation dataset folder, evaluated (greedy) after every epoch." };
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "The model to write: a model folder (config.json + model.safetensors), or one file if the path ends in .gtm.", Required = true };
        var preset = new Option<string>("--preset") { Description = "Model size: tiny, small or paper.", DefaultValueFactory = _ => "small" }.OneOf(GeoTokenModelOptions.PresetNames);
        var layout = new Option<string?>("--layout") { Description = "Context layout: paper (14 positions per neighbor) or compact (1); default: the preset's." }.OneOf("paper", "compact");
        var copy = new Option<string?>("--copy") { Description = "Neighbor-copy head: on or off; default: the preset's." }.OneOf("on", "off");
        var epochs = new Option<int>("--epochs") { HelpName = "N", Description = "Epochs.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Batch size (rows per forward pass; with --accumulate N a step takes N batches).", DefaultValueFactory = _ => 256 };
        var accumulate = new Option<int>("--accumulate") { HelpName = "N", Description = "Gradient accumulation: batches per optimizer step (effective batch = --batch × N; default 1, with --recipe paper 2048 / --batch).", DefaultValueFactory = _ => 1 };
        var precision = new Option<string>("--precision") { Description = "fp32, or bf16 (bfloat16 forward/backward, float32 master weights; default fp32, with --recipe paper bf16).", DefaultValueFactory = _ => "fp32" }.OneOf("fp32", "bf16");
        var recipe = RecipeSetting.Create("paper preset, AdamW 5e-5, ×0.9 per epoch, 50 epochs, batch 2048 by accumulation, bf16, no warm-up or clipping");
        var lr = new Option<double?>("--lr") { HelpName = "RATE", Description = "Learning rate (default: 5e-5 for paper, 5e-4 for small and tiny)." };
        var warmup = new Option<int?>("--warmup") { HelpName = "STEPS", Description = "Linear warm-up steps (default: 0 for paper, 100 for small and tiny)." };
        var clip = new Option<double?>("--clip") { HelpName = "NORM", Description = "Gradient-norm clipping (default: none for paper, 1.0 for small and tiny)." };
        var decay = new Option<double>("--lr-decay") { HelpName = "FACTOR", Description = "Per-epoch learning-rate multiplier.", DefaultValueFactory = _ => 0.9 };
        var seed = new Option<ulong>("--seed") { HelpName = "SEED", Description = "Seed (weights, dropout, shuffling).", DefaultValueFactory = _ => 1UL };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT.ckpt (the checkpoint next to --out) if it exists." };
        var resumeAnyway = new Option<bool>("--resume-anyway") { Description = "With --resume: continue even if the checkpoint was trained on other data (or records none)." };
        var device = CliChoices.Device("Where the model trains: the CPU, the first CUDA GPU, or the N-th (0-based; CUDA needs a CUDA backend build).");
        var maxMinutes = new Option<double?>("--max-minutes") { HelpName = "MINUTES", Description = "Stop after this much training time (checkpointed; --resume continues)." };
        var valRows = new Option<int>("--val-rows") { HelpName = "N", Description = "Validate on at most this many rows.", DefaultValueFactory = _ => 2000 };
        var index = new Option<FileInfo?>("--index") { HelpName = "FILE", Description = "Cluster index of the training gallery for computing neighbors (default: exact search)." };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Write a JSON summary (epochs, losses, validation metrics, throughput). - writes it to standard output (the report then goes to standard error)." };
        var group = NeighborGroupSetting.Create();
        var cmd = new Command("train", "Train a GeoToken model (retrieval-conditioned encoder-decoder) on dataset folders.")
        {
            train, val, output, preset, layout, copy, epochs, batch, accumulate, precision, recipe, lr, warmup, clip, decay, seed, resume, resumeAnyway, device, maxMinutes, valRows, index, group, json,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var chosen = RecipeSetting.Resolve(parse, recipe);
            string presetName = chosen.Preset is { } recipePreset && !RecipeSetting.Given(parse, preset) ? recipePreset : parse.GetValue(preset)!;
            bool paper = presetName.Equals("paper", StringComparison.OrdinalIgnoreCase);
            var trainingPrecision = parse.GetValue(precision)!.ToLowerInvariant() switch
            {
                "fp32" => TrainingPrecision.Float32,
                "bf16" => TrainingPrecision.BFloat16,
                var other => throw new CliUsageException($"--precision {other}: use fp32 or bf16."),
            };
            if (parse.GetValue(accumulate) < 1) throw new CliUsageException($"--accumulate {parse.GetValue(accumulate)}: use 1 or more batches per step.");
            GeoTokenTrainerOptions trainer;
            if (chosen.IsPaper)
            {
                // The reference's recipe; every option given explicitly overrides its choice.
                int micro = parse.GetValue(batch);
                try
                {
                    trainer = RecipeSetting.Given(parse, accumulate) ? chosen.Trainer() with { BatchSize = micro, GradientAccumulationSteps = parse.GetValue(accumulate) } : chosen.Trainer(micro);
                }
                catch (ArgumentException e)
                {
                    throw new CliUsageException($"--batch {micro}: {e.Message}");
                }

                trainer = trainer with
                {
                    Epochs = RecipeSetting.Given(parse, epochs) ? parse.GetValue(epochs) : trainer.Epochs,
                    LearningRate = parse.GetValue(lr) ?? trainer.LearningRate,
                    WarmupSteps = parse.GetValue(warmup) ?? trainer.WarmupSteps,
                    MaxGradientNorm = parse.GetValue(clip) ?? trainer.MaxGradientNorm,
                    LearningRateDecay = RecipeSetting.Given(parse, decay) ? parse.GetValue(decay) : trainer.LearningRateDecay,
                    Precision = RecipeSetting.Given(parse, precision) ? trainingPrecision : trainer.Precision,
                };
            }
            else
            {
                trainer = new GeoTokenTrainerOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    GradientAccumulationSteps = parse.GetValue(accumulate),
                    Precision = trainingPrecision,
                    LearningRate = parse.GetValue(lr) ?? (paper ? 5e-5 : 5e-4),
                    WarmupSteps = parse.GetValue(warmup) ?? (paper ? 0 : 100),
                    MaxGradientNorm = parse.GetValue(clip) ?? (paper ? null : 1.0),
                    LearningRateDecay = parse.GetValue(decay),
                };
            }

            ContextLayout? contextLayout = parse.GetValue(layout)?.ToLowerInvariant() switch
            {
                null => null,
                "paper" => ContextLayout.Paper,
                "compact" => ContextLayout.Compact,
                var other => throw new CliUsageException($"--layout {other}: use paper or compact."),
            };

            bool? neighborCopy = parse.GetValue(copy)?.ToLowerInvariant() switch
            {
                null => null,
                "on" => true,
                "off" => false,
                var other => throw new CliUsageException($"--copy {other}: use on or off."),
            };

            double? minutes = parse.GetValue(maxMinutes);
            var options = new TrainingRunOptions
            {
                TrainDirectory = parse.GetValue(train)!.FullName,
                ValidationDirectory = parse.GetValue(val)?.FullName,
                ValidationRows = parse.GetValue(valRows),
                OutputPath = parse.GetValue(output)!.FullName,
                Preset = presetName,
                Layout = contextLayout,
                NeighborCopy = neighborCopy,
                Resume = parse.GetValue(resume),
                ResumeOnOtherData = parse.GetValue(resumeAnyway),
                Device = parse.GetValue(device)!,
                Neighbors = new NeighborCacheOptions
                {
                    IndexPath = parse.GetValue(index)?.FullName,
                    GroupColumn = NeighborGroupSetting.Resolve(parse.GetValue(group)!, parse.GetValue(train)!.FullName),
                },
                Trainer = trainer with
                {
                    Seed = parse.GetValue(seed),
                    MaxDuration = minutes is double m ? TimeSpan.FromMinutes(m) : null,
                },
            };
            var output2 = parse.InvocationConfiguration.Output;
            var err = parse.InvocationConfiguration.Error;
            var result = await ProgressDisplay.RunAsync(err, p => TrainingRun.RunAsync(options, new Progress<TrainingRunProgress>(r => Report(p, err, r)), ct)).ConfigureAwait(false);
            var last = result.Training.Validations.LastOrDefault();
            output2.WriteLine(options.Neighbors.GroupColumn is { } groupColumn
                ? $"training neighbors: none shares the image's {groupColumn} value"
                : "training neighbors: every other image may be one (no --neighbor-group column)");
            output2.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model: {result.ModelPath} ({result.ParameterCount:N0} parameters, {result.Model.ContextLayout} layout{(result.Model.NeighborCopy ? ", neighbor-copy head" : "")}); recipe {chosen}, steps of {options.Trainer.EffectiveBatchSize} rows ({options.Trainer.BatchSize} × {options.Trainer.GradientAccumulationSteps}) in {(options.Trainer.Precision == TrainingPrecision.BFloat16 ? "bf16" : "fp32")}; {result.Training.EpochsCompleted} epochs, {result.Training.GlobalStep} steps in {result.TrainingElapsed.TotalMinutes:F1} min{(result.Training.StoppedByTimeLimit ? " (time limit reached; --resume continues)" : "")}"));
            if (result.Training.Validations.Count > 0)
            {
                MetricsTable.Write(output2, result.Training.Validations.Select(v => ($"greedy, epoch {v.Epoch + 1}", v.Metrics)));
            }

            if (parse.GetValue(json) is { } j)
            {
                JsonReport.Write(j.FullName, new
                {
                    model = result.ModelPath,
                    parameters = result.ParameterCount,
                    epochs = result.Training.EpochsCompleted,
                    steps = result.Training.GlobalStep,
                    minutes = result.TrainingElapsed.TotalMinutes,
                    stopped_by_time_limit = result.Training.StoppedByTimeLimit,
                    epoch_losses = result.Training.EpochMeanLosses,
                    validation = result.Training.Validations.Select(v => new { epoch = v.Epoch + 1, loss = v.Loss, metrics = MetricsJson.From(v.Metrics) }),
                    last_validation = last is null ? null : MetricsJson.From(last.Metrics),
                });
            }

            return 0;
        });
        return cmd.WithExamples("geotoken train --train S/train --out S/small.gtm --preset small --max-minutes 15 --index S/train.gtci", "geotoken train --train S/train --val V/val --out M --recipe paper --device cuda --resume");
    }

    private static void Report(IProgress<ProgressDisplay.Update> p, TextWriter err, TrainingRunProgress r)
    {
        if (r.Training is { Validation: { } v })
        {
            err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {v.Epoch + 1}: validation loss {v.Loss:F3}, greedy accuracy {v.Metrics.Acc1Km:F1} / {v.Metrics.Acc25Km:F1} / {v.Metrics.Acc200Km:F1} / {v.Metrics.Acc750Km:F1} / {v.Metrics.Acc2500Km:F1} % at 1/25/200/750/2500 km"));
            return;
        }

        string status = r.Training is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"epoch {t.Epoch + 1} loss {t.Loss:F3} ({t.SamplesPerSecond:F0} samples/s)")
            : "";
        p.Report(new ProgressDisplay.Update(r.Stage, r.Done, r.Total, status));
    }
}

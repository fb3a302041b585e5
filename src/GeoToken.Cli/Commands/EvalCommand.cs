using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json.Serialization;
using GeoToken.Decoding;
using GeoToken.Evaluation;
using GeoToken.Model;
using GeoToken.IO;
using GeoToken.Reports;
using GeoToken.Reranking;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken eval</c>: every strategy side by side on a query set.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = ModelSetting.CreateForInference();
        var gallery = new GallerySetting("Gallery dataset folder (the training set).");
        var query = new Option<DirectoryInfo>("--query") { HelpName = "DIR", Description = "Query dataset folder with true locations.", Required = true };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Write a list of {strategy, metrics…, ms_per_image} as JSON. - writes it to standard output (the report then goes to standard error)." };
        var predictions = new Option<FileInfo?>("--predictions") { HelpName = "FILE.csv", Description = "Write every strategy's prediction per image as CSV (LAT_pred/LON_pred = --primary)." };
        var primary = new Option<string>("--primary") { HelpName = "STRATEGY", Description = "Strategy written as LAT_pred/LON_pred.", DefaultValueFactory = _ => "consensus" };
        var report = new Option<DirectoryInfo?>("--report") { HelpName = "DIR", Description = "Write an HTML report with error CDFs and world maps into this folder." };
        var maxQueries = new Option<int?>("--max-queries") { HelpName = "N", Description = "Evaluate only the first N queries." };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Images decoded together.", DefaultValueFactory = _ => 64 };
        var beam = new Option<int>("--beam") { HelpName = "WIDTH", Description = "Beam width.", DefaultValueFactory = _ => 5 };
        var commitLevel = new Option<int>("--commit-level") { HelpName = "LEVEL", Description = "S2 level at which the beam strategy commits to one cell (beam-paper never commits).", DefaultValueFactory = _ => BeamSearchOptions.DefaultCommitLevel };
        var commitScore = new Option<string>("--commit-score") { Description = "How beam chooses that cell: hierarchy (the most mass in the cell and its coarser cells together) or cell (the most probable cell).", DefaultValueFactory = _ => "hierarchy" }.OneOf("hierarchy", "cell");
        var samples = new Option<int>("--samples") { HelpName = "N", Description = "Samples in the candidate pool (plus greedy).", DefaultValueFactory = _ => 30 };
        var temperature = new Option<double>("--temperature") { HelpName = "T", Description = "Sampling temperature of the pool.", DefaultValueFactory = _ => 0.7 };
        var seed = new Option<ulong>("--seed") { HelpName = "SEED", Description = "Sampling seed.", DefaultValueFactory = _ => 0UL };
        var calibration = new Option<FileInfo?>("--calibration") { HelpName = "FILE.json", Description = "Fit the uncertainty radius on this (validation) query set and write it as JSON for predict." };
        var reward = new Option<FileInfo?>("--reward") { HelpName = "FILE", Description = "Reward head (geotoken reward): adds the reward strategy." };
        var device = CliChoices.Device("Where the model runs: the CPU, the first CUDA GPU, or the N-th (0-based).");
        var similarity = new Option<FileInfo?>("--similarity") { HelpName = "FILE", Description = "Similarity model (geotoken similarity): adds the similarity reranker, its cascade and the gps-gallery strategy." };
        var similarityTop = new Option<int>("--similarity-top") { HelpName = "N", Description = "With --similarity, also evaluate similarity>topN>logprob: the N most similar candidates, the most probable of them (0: off).", DefaultValueFactory = _ => 3 };
        var gpsGallery = new Option<string>("--gps-gallery") { HelpName = "geoclip|train|URI", Description = "GPS gallery: geoclip (GeoCLIP's 100,000 coordinates, bundled), train (the gallery dataset's) or a postgresql://…?table=NAME GPS gallery table (geotoken db push-gps).", DefaultValueFactory = _ => "geoclip" };
        var gpsIndex = new Option<bool>("--gps-index") { Description = "Search the GPS gallery through a hierarchical cluster index (up to 800 clusters, beam descent) instead of exactly." };
        var judge = new JudgeSettings();
        var recipe = RecipeSetting.Create("pool samples scored tempered, the reward head's selection rule (reward-paper), the reference's judge prompts; beam-paper is its beam");
        var cmd = new Command("eval", "Evaluate knn, greedy, beam, the reranked candidate pool and the pool oracle side by side.")
        {
            model, query, json, predictions, primary, report, maxQueries, batch, beam, commitLevel, commitScore, samples, temperature, seed, calibration, reward, device,
            similarity, similarityTop, gpsGallery, gpsIndex, recipe,
        };
        judge.AddTo(cmd);
        gallery.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            var chosen = RecipeSetting.Resolve(parse, recipe);
            await using var opened = await gallery.OpenAsync(parse, parse.InvocationConfiguration.Error, ct).ConfigureAwait(false);
            var options = new EvaluationRunOptions
            {
                ModelPath = parse.GetValue(model)!.FullName,
                Runtimes = ModelSetting.Runtimes(parse.GetValue(device)!),
                GalleryDirectory = opened.Directory!, // eval reads rows from the snapshot (rowsFromSearch: false)
                Neighbors = new NeighborCacheOptions { Search = opened.Search },
                QueryDirectory = parse.GetValue(query)!.FullName,
                MaxQueries = parse.GetValue(maxQueries),
                BatchSize = parse.GetValue(batch),
                BeamWidth = parse.GetValue(beam),
                // Both beams are reported with either recipe: beam (two-stage, ours) and beam-paper (the reference's one stage).
                BeamSearches = EvaluationRunOptions.DefaultBeamSearches(parse.GetValue(commitLevel), ParseCommitScore(parse.GetValue(commitScore)!)),
                Pool = chosen.Pool with { Samples = parse.GetValue(samples), Temperature = parse.GetValue(temperature), Seed = parse.GetValue(seed) },
            };
            using var rewardScorer = parse.GetValue(reward) is { } rewardFile ? RewardScorer.Open(rewardFile.FullName, parse.GetValue(device)!) : null;
            if (rewardScorer is not null) options = options with { Scorers = [rewardScorer] };
            using var similarityModel = parse.GetValue(similarity) is { } sim ? SimilarityModelFile.Load(sim.FullName) : null;
            await using var gps = similarityModel is null ? null : await GpsGallerySource.OpenAsync(similarityModel, parse.GetValue(gpsGallery)!, options.GalleryDirectory, parse.GetValue(gpsIndex), ct).ConfigureAwait(false);
            if (similarityModel is not null)
            {
                var similarityReranker = new SimilarityReranker(similarityModel);
                int top = parse.GetValue(similarityTop);
                if (top < 0) throw new CliUsageException($"--similarity-top {top}: use 0 (off) or a positive count.");
                IReranker[] added = top > 0 ? [similarityReranker, new RerankerBuilder(similarityReranker).UseCascade(new LogProbReranker(), top).Build()] : [similarityReranker];
                options = options with { Rerankers = [.. options.Rerankers, .. added], Generators = [new GpsGalleryGenerator(gps!.Gallery)] };
            }

            if (rewardScorer is not null && chosen.IsPaper) options = options with { Rerankers = [.. options.Rerankers, new RewardReranker(chosen.RewardSelection)] };
            if (judge.Create(parse, chosen) is { } judgeReranker) options = options with { Rerankers = [.. options.Rerankers, judgeReranker] };
            var err = parse.InvocationConfiguration.Error;
            var result = await ProgressDisplay.RunAsync(err, p => EvaluationRun.RunAsync(options, new Progress<(int Done, int Total)>(x => p.Report(new("evaluate", x.Done, x.Total))), ct)).ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            MetricsTable.Write(output, result.Strategies.Select(s => (s.MillisecondsPerImage is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{s.Name} ({ms:F1} ms/img)") : s.Name, s.Metrics)));
            foreach (var (reason, count) in result.FallbackReasons.OrderByDescending(kv => kv.Value).Take(5)) err.WriteLine($"fallback ×{count}: {reason}");
            output.WriteLine($"uncertainty (consensus pool radius): {result.UncertaintyCalibration}");
            output.WriteLine($"model: {options.ModelPath} on {result.Runtime} ({result.Model.Description})");

            if (parse.GetValue(json) is { } j)
            {
                JsonReport.Write(j.FullName, result.Strategies.Select(s => new StrategyJson(s)).ToArray());
            }

            if (parse.GetValue(predictions) is { } p) WritePredictions(p.FullName, result, parse.GetValue(primary)!);
            if (parse.GetValue(calibration) is { } c) JsonReport.Write(c.FullName, result.UncertaintyCalibration);
            if (parse.GetValue(report) is { } r)
            {
                string html = EvaluationReport.Write(r.FullName, result.Truth, result.Strategies, new EvaluationReportOptions
                {
                    Title = "GeoToken evaluation",
                    Notes = [$"model {options.ModelPath} ({result.Runtime})", $"gallery {options.GalleryDirectory}", $"queries {options.QueryDirectory} ({result.Truth.Count} images)"],
                    MapStrategies = result.Strategies.Select(s => s.Name).Where(n => n is "knn" or "greedy" or "consensus" or "reward" or "oracle").ToArray(),
                }, ct);
                output.WriteLine($"report: {html}");
            }

            return 0;
        });
        return cmd.WithExamples("geotoken eval --model S/small.gtm --gallery S/train --query S/test --json eval.json --predictions test.csv", "geotoken eval --model M --gallery S/train --query V/val --calibration calibration.json --reward S/reward.gtr");
    }

    private static BeamCommitScore ParseCommitScore(string value) => value.ToUpperInvariant() switch
    {
        "HIERARCHY" => BeamCommitScore.HierarchyMass,
        "CELL" => BeamCommitScore.CellMass,
        _ => throw new CliUsageException($"--commit-score {value}: use hierarchy or cell."),
    };

    private static void WritePredictions(string path, EvaluationRunResult result, string primary)
    {
        var main = result.Strategies.FirstOrDefault(s => s.Name == primary)
            ?? throw new CliUsageException($"--primary {primary} is not one of the strategies: {string.Join(", ", result.Strategies.Select(s => s.Name))}.");
        AtomicFile.Write(path, stream =>
        {
            using var w = CsvWriter.Create(stream);
            var header = new List<string> { "IMG_ID", "LAT", "LON", "LAT_pred", "LON_pred" };
            foreach (var s in result.Strategies) header.AddRange([$"LAT_pred_{s.Name}", $"LON_pred_{s.Name}"]);
            w.WriteRow([.. header]);
            for (int i = 0; i < result.Truth.Count; i++)
            {
                w.Write(result.ImageIds[i]);
                w.Write(result.Truth[i].Latitude);
                w.Write(result.Truth[i].Longitude);
                w.Write(main.Predictions[i].Latitude);
                w.Write(main.Predictions[i].Longitude);
                foreach (var s in result.Strategies)
                {
                    w.Write(s.Predictions[i].Latitude);
                    w.Write(s.Predictions[i].Longitude);
                }

                w.EndRow();
            }
        });
    }

    private sealed record StrategyJson : MetricsJson
    {
        [SetsRequiredMembers]
        public StrategyJson(StrategyEvaluation s)
        {
            Strategy = s.Name;
            N = s.Metrics.Count;
            Acc1Km = s.Metrics.Acc1Km;
            Acc25Km = s.Metrics.Acc25Km;
            Acc200Km = s.Metrics.Acc200Km;
            Acc750Km = s.Metrics.Acc750Km;
            Acc2500Km = s.Metrics.Acc2500Km;
            MedianKm = s.Metrics.MedianKm;
            MeanKm = s.Metrics.MeanKm;
            MeanGeoScore = s.Metrics.MeanGeoScore;
            MsPerImage = s.MillisecondsPerImage;
        }

        [JsonPropertyName("strategy")] [JsonPropertyOrder(-1)] public string Strategy { get; }

        [JsonPropertyName("ms_per_image")] public double? MsPerImage { get; }
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Embeddings;
using GeoToken.Onnx;
using GeoToken.Photos;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.Progress;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Uncertainty;
using Spectre.Console;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken predict</c>: locate images given as photos (through an ONNX encoder) or as feature rows.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = ModelSetting.CreateForInference();
        var gallery = new GallerySetting("Gallery dataset folder the model retrieves from (its training set).");
        var index = new Option<FileInfo?>("--index") { HelpName = "FILE", Description = "Cluster index of the gallery (default: exact search)." };
        var features = new Option<FileInfo[]>("--features") { HelpName = "FILE.npy", Description = "Query features as .npy (rows × d), one file per modality in order image, loc, text.", AllowMultipleArgumentsPerToken = true };
        var rows = new Option<int?>("--rows") { HelpName = "N", Description = "With --features: only the first N rows." };
        var image = new Option<FileSystemInfo?>("--image") { HelpName = "FILE|DIR", Description = "A photo, or a folder of photos, to locate (needs --encoder)." };
        var encoder = new EncoderSettings(required: false);
        var top = new Option<int>("--top") { HelpName = "N", Description = "Ranked answers shown per image.", DefaultValueFactory = _ => 3 };
        var reranker = new Option<string>("--reranker") { Description = "consensus, mbr, logprob or reward (with --reward).", DefaultValueFactory = _ => "consensus" }.OneOf(StandardRerankers.Names);
        var samples = new Option<int>("--samples") { HelpName = "N", Description = "Samples in the candidate pool (plus greedy).", DefaultValueFactory = _ => 30 };
        var temperature = new Option<double>("--temperature") { HelpName = "T", Description = "Sampling temperature of the pool.", DefaultValueFactory = _ => 0.7 };
        var reward = new Option<FileInfo?>("--reward") { HelpName = "FILE", Description = "Reward head (geotoken reward); use with --reranker reward." };
        var calibration = new Option<FileInfo?>("--calibration") { HelpName = "FILE.json", Description = "Uncertainty calibration from geotoken eval --calibration." };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Images located together.", DefaultValueFactory = _ => 32 };
        var json = new Option<FileInfo?>("--json") { HelpName = "FILE|-", Description = "Write every prediction (ranked locations, places, uncertainty, neighbors) as JSON. - writes it to standard output (the report then goes to standard error)." };
        var device = CliChoices.Device("Where the model runs: the CPU, the first CUDA GPU, or the N-th (0-based).");
        var judge = new JudgeSettings();
        var recipe = RecipeSetting.Create("pool samples scored tempered, the reward head's selection rule, the reference's judge prompts");
        var cmd = new Command("predict", "Locate photos (--image with --encoder) or feature rows (--features): ranked positions, uncertainty radius and the nearest place.")
        {
            recipe, model, index, features, rows, image, top, reranker, samples, temperature, reward, calibration, batch, json, device,
        };
        gallery.AddTo(cmd);
        judge.AddTo(cmd);
        encoder.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            var featureFiles = parse.GetValue(features) ?? [];
            var imagePath = parse.GetValue(image);
            if ((featureFiles.Length > 0) == (imagePath is not null)) throw new CliUsageException("Give either --features FILE.npy… or --image PATH (with --encoder).");
            if (parse.GetValue(top) < 1) throw new CliUsageException("--top must be at least 1.");
            if (parse.GetValue(batch) < 1) throw new CliUsageException("--batch must be at least 1.");
            var chosen = RecipeSetting.Resolve(parse, recipe);
            IReranker rerank = judge.Create(parse, chosen) ?? Reranker(parse.GetValue(reranker)!, parse.GetValue(reward) is not null, chosen.RewardSelection);
            if (parse.GetValue(index) is not null && PgGalleryAddress.IsUri(gallery.Value(parse))) throw new CliUsageException("--index is a cluster index of a gallery folder; a postgresql:// gallery is searched through its HNSW index.");
            await using var opened = await gallery.OpenAsync(parse, parse.InvocationConfiguration.Error, ct, rowsFromSearch: true).ConfigureAwait(false);
            using var rewardScorer = parse.GetValue(reward) is { } rewardFile ? RewardScorer.Open(rewardFile.FullName, parse.GetValue(device)!) : null;
            var options = new GeoTokenPredictorOptions
            {
                ModelPath = parse.GetValue(model)!.FullName,
                Runtimes = ModelSetting.Runtimes(parse.GetValue(device)!),
                GalleryDirectory = opened.Directory,
                NeighborSearch = opened.Search,
                IndexPath = parse.GetValue(index)?.FullName,
                Scorers = rewardScorer is null ? [] : [rewardScorer],
                Pool = chosen.Pool with { Samples = parse.GetValue(samples), Temperature = parse.GetValue(temperature) },
                Reranker = rerank,
                Calibration = parse.GetValue(calibration) is { } c ? ReadCalibration(c.FullName) : null,
                BatchSize = parse.GetValue(batch),
            };
            var err = parse.InvocationConfiguration.Error;
            var queries = imagePath is not null
                ? await EncodeImages(imagePath, encoder.CreateAll(parse), ct).ConfigureAwait(false)
                : ReadFeatures(featureFiles, parse.GetValue(rows));

            using var predictor = await GeoTokenPredictor.OpenAsync(options, ct).ConfigureAwait(false);
            err.WriteLine($"model: {options.ModelPath} on {predictor.Runtime} ({predictor.Model.Description})");
            var predictions = await ProgressDisplay.RunAsync(err, p =>
                predictor.PredictAsync(queries, p.Map((PredictionProgress d) => new ProgressDisplay.Update("predict", d.Done, d.Total)), ct)).ConfigureAwait(false);

            Write(parse.InvocationConfiguration.Output, predictions, parse.GetValue(top));
            if (parse.GetValue(json) is { } j) JsonReport.Write(j.FullName, predictions.Select(p => PredictionJson.From(p, parse.GetValue(top))).ToArray());
            return 0;
        });
        return cmd.WithExamples("geotoken predict --model M --gallery photos-gallery --image photo.jpg --encoder clip.onnx", "geotoken predict --model S/small.gtm --gallery S/train --features q.npy --rows 5 --reranker logprob --json -");
    }

    /// <summary>
    /// The <c>--reranker</c>: one of <see cref="StandardRerankers"/>; <c>reward</c> needs <c>--reward</c> and falls back to
    /// consensus where the reward head cannot score.
    /// </summary>
    internal static IReranker Reranker(string name, bool haveReward, RewardSelection rewardSelection = RewardSelection.MostLikelyWithin)
    {
        IReranker chosen;
        try
        {
            chosen = StandardRerankers.Create(name);
        }
        catch (ArgumentException)
        {
            throw new CliUsageException($"--reranker {name}: use {string.Join(", ", StandardRerankers.Names)} (or --judge-model for the MLLM judge).");
        }

        if (chosen is not PoolScoreReranker) return chosen;
        if (!haveReward) throw new CliUsageException($"--reranker {name} needs --reward FILE (geotoken reward).");
        if (chosen is RewardReranker) chosen = new RewardReranker(rewardSelection);
        return new RerankerBuilder(chosen).UseFallback(new ConsensusReranker()).Build();
    }

    internal static RadiusCalibration ReadCalibration(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RadiusCalibration>(File.ReadAllText(path), JsonReport.Options)
                ?? throw new CliUsageException($"{path} holds no calibration.");
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"{path} is not a calibration written by geotoken eval --calibration: {e.Message}");
        }
    }

    private static List<GeoQuery> ReadFeatures(FileInfo[] files, int? limit)
    {
        var matrices = new List<FeatureMatrix>();
        try
        {
            foreach (var f in files) matrices.Add(NpyFile.OpenFeatures(f.FullName));
            long n = matrices[0].Rows;
            foreach (var (m, f) in matrices.Zip(files))
            {
                if (m.Rows != n) throw new CliUsageException($"{f.FullName} has {m.Rows} rows but {files[0].FullName} has {n}.");
            }

            if (limit is { } l)
            {
                if (l < 1) throw new CliUsageException("--rows must be at least 1.");
                n = Math.Min(n, l);
            }

            var queries = new List<GeoQuery>((int)n);
            for (long r = 0; r < n; r++)
            {
                var views = new ReadOnlyMemory<float>[matrices.Count];
                for (int m = 0; m < matrices.Count; m++)
                {
                    var row = new float[matrices[m].Columns];
                    matrices[m].ReadRow(r, row);
                    views[m] = row;
                }

                queries.Add(new GeoQuery { Id = $"row {r + 1}", Features = views });
            }

            return queries;
        }
        finally
        {
            foreach (var m in matrices) m.Dispose();
        }
    }

    /// <summary>Photos → queries with one feature row per view, each from its own encoder (in the model's view order).</summary>
    private static async Task<List<GeoQuery>> EncodeImages(FileSystemInfo target, IReadOnlyList<OnnxImageEncoder> encoders, CancellationToken ct)
    {
        try
        {
            if (encoders.Count == 0) throw new CliUsageException("--image needs --encoder MODEL.onnx (the image encoder whose features the model was trained on; VIEW=PATH once per view for a model of several views).");
            string[] paths = target switch
            {
                FileInfo { Exists: true } f => [f.FullName],
                DirectoryInfo { Exists: true } d => [.. (await new PhotoFolderScanner().ScanAsync(d.FullName, cancellationToken: ct).ConfigureAwait(false)).Photos.Where(p => p.Status is PhotoStatus.Usable or PhotoStatus.NoGps or PhotoStatus.BadGps).Select(p => p.Path)],
                _ => throw new CliUsageException($"--image {target.FullName} does not exist."),
            };
            if (paths.Length == 0) throw new CliUsageException($"{target.FullName} holds no photos.");
            var views = new List<ImageEmbeddings>();
            foreach (var encoder in encoders) views.Add(await encoder.EncodeAsync(paths, cancellationToken: ct).ConfigureAwait(false));
            return [.. paths.Select((p, i) => new GeoQuery { Id = Path.GetFileName(p), Features = [.. views.Select(v => v.GetRow(i))], Image = ImageInput.FromFile(p) })];
        }
        finally
        {
            foreach (var encoder in encoders) encoder.Dispose();
        }
    }

    private static void Write(TextWriter output, IReadOnlyList<GeoPrediction> predictions, int top)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        var table = new Table().AddColumns("image", "rank", "lat, lon", "nearest place", "± km", "score", "S2 cell");
        foreach (var p in predictions)
        {
            foreach (var l in p.Locations.Take(top))
            {
                table.AddRow(
                    Markup.Escape(l.Rank == 1 ? p.Id ?? "" : ""),
                    l.Rank.ToString(CultureInfo.InvariantCulture),
                    string.Create(CultureInfo.InvariantCulture, $"{l.Position.Latitude:F4}, {l.Position.Longitude:F4}"),
                    Markup.Escape(l.Place is { } place ? string.Create(CultureInfo.InvariantCulture, $"{place} ({place.DistanceKm:F0} km)") : ""),
                    l.Rank == 1 ? string.Create(CultureInfo.InvariantCulture, $"{p.UncertaintyKm:F0}{(p.UncertaintyCalibrated ? "" : "*")}") : "",
                    l.Score.ToString("G4", CultureInfo.InvariantCulture),
                    l.CellToken ?? "");
            }
        }

        console.Write(table);
        if (predictions.Any(p => !p.UncertaintyCalibrated))
        {
            output.WriteLine($"* raw radius holding {predictions[0].UncertaintyMass:P0} of the candidate pool's mass; calibrate it with geotoken eval --calibration and predict --calibration.");
        }
    }
}

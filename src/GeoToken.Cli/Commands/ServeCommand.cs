using System.CommandLine;
using GeoToken.Cli.Serving;
using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken serve</c>: the geolocation service on 127.0.0.1 (POST /predict, GET /health).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = ModelSetting.CreateForInference();
        var gallery = new GallerySetting("Gallery dataset folder the model retrieves from (its training set).");
        var index = new Option<FileInfo?>("--index") { HelpName = "FILE", Description = "Cluster index of a gallery folder (default: exact search)." };
        var encoder = new EncoderSettings(required: false);
        var port = new Option<int>("--port") { HelpName = "PORT", Description = "Port on 127.0.0.1 (the service never listens on another address).", DefaultValueFactory = _ => 8080 };
        var maxMb = new Option<int>("--max-request-mb") { HelpName = "MB", Description = "Largest request body in MB (larger: 413).", DefaultValueFactory = _ => 16 };
        var concurrency = new Option<int>("--max-concurrency") { HelpName = "N", Description = "Prediction requests handled at once.", DefaultValueFactory = _ => 4 };
        var queue = new Option<int>("--queue") { HelpName = "N", Description = "Prediction requests waiting for a slot; beyond them the service answers 503.", DefaultValueFactory = _ => 16 };
        var top = new Option<int>("--top") { HelpName = "N", Description = "Ranked answers per image.", DefaultValueFactory = _ => 3 };
        var reranker = new Option<string>("--reranker") { Description = "consensus, mbr or logprob.", DefaultValueFactory = _ => "consensus" }.OneOf("consensus", "mbr", "logprob");
        var calibration = new Option<FileInfo?>("--calibration") { HelpName = "FILE.json", Description = "Uncertainty calibration from geotoken eval --calibration." };
        var device = CliChoices.Device("Where the model runs: the CPU, the first CUDA GPU, or the N-th (0-based).");
        var cmd = new Command("serve", "Serve geolocation over HTTP on 127.0.0.1: POST /predict (feature vectors as JSON, or photos as multipart form data with --encoder), GET /health, and a page at / that shows a photo's answer on a map.")
        {
            model, index, port, maxMb, concurrency, queue, top, reranker, calibration, device,
        };
        gallery.AddTo(cmd);
        encoder.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new GeoServerOptions
            {
                Port = parse.GetValue(port),
                MaxRequestBytes = (long)parse.GetValue(maxMb) << 20,
                MaxConcurrentRequests = parse.GetValue(concurrency),
                QueueLength = parse.GetValue(queue),
                Top = parse.GetValue(top),
            };
            if (options.Port is < 0 or > 65535) throw new CliUsageException($"--port {options.Port}: use 0…65535.");
            if (parse.GetValue(maxMb) < 1 || options.MaxConcurrentRequests < 1 || options.QueueLength < 0 || options.Top < 1)
            {
                throw new CliUsageException("--max-request-mb, --max-concurrency and --top must be at least 1, --queue at least 0.");
            }

            if (parse.GetValue(index) is not null && PgGalleryAddress.IsUri(gallery.Value(parse))) throw new CliUsageException("--index is a cluster index of a gallery folder; a postgresql:// gallery is searched through its HNSW index.");
            var rerank = PredictCommand.Reranker(parse.GetValue(reranker)!, haveReward: false);
            await using var opened = await gallery.OpenAsync(parse, parse.InvocationConfiguration.Error, ct, rowsFromSearch: true).ConfigureAwait(false);
            using var onnx = encoder.Create(parse);
            using var predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions
            {
                ModelPath = parse.GetValue(model)!.FullName,
                Runtimes = ModelSetting.Runtimes(parse.GetValue(device)!),
                GalleryDirectory = opened.Directory,
                NeighborSearch = opened.Search,
                IndexPath = parse.GetValue(index)?.FullName,
                Reranker = rerank,
                Calibration = parse.GetValue(calibration) is { } c ? PredictCommand.ReadCalibration(c.FullName) : null,
            }, ct).ConfigureAwait(false);
            await using var server = GeoServer.Create(options, predictor, onnx);
            await server.StartAsync(ct).ConfigureAwait(false);
            parse.InvocationConfiguration.Error.WriteLine($"serving on {server.Address} (the page at /, POST /predict, GET /health); Ctrl+C stops");
            await server.ServeUntilAsync(ct).ConfigureAwait(false);
            return 0;
        });
        return cmd.WithExamples("geotoken serve --model M --gallery photos-gallery --encoder clip.onnx --port 8080", "geotoken serve --model S/small.gtm --gallery S/train --index S/train.gtci --calibration calibration.json");
    }
}

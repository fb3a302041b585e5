using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Prediction;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeoToken.Cli.Serving;

/// <summary>
/// The geolocation service of <c>geotoken serve</c> (ASP.NET Core minimal API on 127.0.0.1 only):
/// <c>POST /predict</c> (JSON feature vectors, or photos as multipart form data with an encoder) → ranked positions,
/// places, S2 cells and uncertainty radius; <c>GET /health</c>; the page at <c>/</c> that draws a photo's answer on an offline world map
/// (<see cref="GeoPage"/>). Request bodies are size-limited (413), prediction
/// requests concurrency-limited with a queue (503 with Retry-After when full), a request whose client disconnects is
/// cancelled, and every request is logged with structured fields.
/// </summary>
internal sealed class GeoServer : IAsyncDisposable
{
    private const string PredictPolicy = "predict";
    private readonly WebApplication _app;
    private int _inFlight;

    private GeoServer(WebApplication app) => _app = app;

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:8080</c> (after <see cref="StartAsync"/>).</summary>
    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>Builds the service around an opened predictor (and encoder, for photos); neither is owned.</summary>
    public static GeoServer Create(GeoServerOptions options, GeoTokenPredictor predictor, OnnxImageEncoder? encoder, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(predictor);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port); // loopback only, never another address
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        builder.Logging.ClearProviders();
        if (logging is null) builder.Logging.AddJsonConsole();
        else logging(builder.Logging);
        builder.Services.AddRateLimiter(r =>
        {
            r.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            r.AddConcurrencyLimiter(PredictPolicy, l =>
            {
                l.PermitLimit = options.MaxConcurrentRequests;
                l.QueueLimit = options.QueueLength;
            });
            r.OnRejected = async (context, ct) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                await context.HttpContext.Response.WriteAsJsonAsync(new ErrorJson($"busy: {options.MaxConcurrentRequests} prediction requests in progress and {options.QueueLength} waiting; retry later"), JsonReport.Options, ct).ConfigureAwait(false);
            };
        });
        var app = builder.Build();
        var server = new GeoServer(app);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GeoToken.Serve");
        GeoPage.Map(app);
        app.UseRateLimiter();
        app.MapGet("/health", () => Results.Json(new HealthJson("ok", predictor.GalleryRows, predictor.Model.ModalityCount, predictor.Model.FeatureDimension, encoder is not null, Volatile.Read(ref server._inFlight)), JsonReport.Options));
        app.MapPost("/predict", (Delegate)((HttpContext context) => server.PredictAsync(context, options, predictor, encoder, log))).RequireRateLimiting(PredictPolicy);
        return server;
    }

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>Serves (after <see cref="StartAsync"/>) until <paramref name="cancellationToken"/> fires (Ctrl+C), then stops gracefully.</summary>
    public async Task ServeUntilAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<IResult> PredictAsync(HttpContext context, GeoServerOptions options, GeoTokenPredictor predictor, OnnxImageEncoder? encoder, ILogger log)
    {
        var ct = context.RequestAborted;
        var clock = Stopwatch.StartNew();
        Interlocked.Increment(ref _inFlight);

        // Counted until the response has completed, which is after the rate limiter has released this request's slot:
        // /health never reports a slot free that a new request would still find taken.
        context.Response.OnCompleted(() =>
        {
            Interlocked.Decrement(ref _inFlight);
            return Task.CompletedTask;
        });
        int images = 0;
        try
        {
            var queries = context.Request.HasFormContentType
                ? await PhotosAsync(context.Request, options, encoder, ct).ConfigureAwait(false)
                : await FeaturesAsync(context.Request, options, ct).ConfigureAwait(false);
            images = queries.Count;
            var predictions = await predictor.PredictAsync(queries, ct).ConfigureAwait(false);
            log.LogInformation("predict {Images} images in {ElapsedMs} ms → 200", images, clock.ElapsedMilliseconds);
            return Results.Json(new PredictResponseJson([.. predictions.Select(p => PredictionJson.From(p, options.Top))]), JsonReport.Options);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Whatever failed (the body read, the prediction), the client has gone: nobody is waiting for an answer.
            log.LogInformation("predict cancelled after {ElapsedMs} ms: the client disconnected ({Images} images)", clock.ElapsedMilliseconds, images);
            return Results.Empty;
        }
        catch (DbException e)
        {
            // The gallery database failed (down, restarting, connection lost): one line, 503, and the client may retry.
            string reason = e.Message.ReplaceLineEndings(" ");
            log.LogWarning("predict failed → 503: the gallery database is unavailable: {Reason}", reason);
            context.Response.Headers.RetryAfter = "1";
            return Results.Json(new ErrorJson($"the gallery database is unavailable: {reason}"), JsonReport.Options, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or InvalidDataException or BadHttpRequestException or ImageDecodeException)
        {
            int status = e is BadHttpRequestException b ? b.StatusCode : StatusCodes.Status400BadRequest;
            log.LogWarning("predict refused → {Status}: {Reason}", status, e.Message);
            return Results.Json(new ErrorJson(e.Message), JsonReport.Options, statusCode: status);
        }
    }

    private static async Task<List<GeoQuery>> FeaturesAsync(HttpRequest request, GeoServerOptions options, CancellationToken ct)
    {
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
        {
            throw new ArgumentException("POST /predict takes application/json ({\"queries\": [{\"id\": …, \"features\": [[…], …]}]}) or multipart/form-data photos.");
        }

        var body = await JsonSerializer.DeserializeAsync<PredictRequestJson>(request.Body, JsonReport.Options, ct).ConfigureAwait(false)
            ?? throw new ArgumentException("The request body is null; send {\"queries\": [{\"id\": …, \"features\": [[…], …]}]}.");
        if (body.Queries is not { Count: > 0 } list) throw new ArgumentException("The request has no queries; send {\"queries\": [{\"id\": …, \"features\": [[…], …]}]}.");
        if (list.Count > options.MaxImagesPerRequest) throw new ArgumentException($"The request has {list.Count} queries; at most {options.MaxImagesPerRequest} per request.");
        var queries = new List<GeoQuery>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            var q = list[i] ?? throw new ArgumentException($"Query {i + 1} is null.");
            if (q.Features is not { Count: > 0 } views || views.Any(v => v is null)) throw new ArgumentException($"Query {i + 1} ({q.Id ?? "no id"}) has no feature vectors (features: one array per view, image first).");
            queries.Add(new GeoQuery { Id = q.Id ?? $"query {i + 1}", Features = [.. views.Select(v => new ReadOnlyMemory<float>(v))] });
        }

        return queries;
    }

    private static async Task<List<GeoQuery>> PhotosAsync(HttpRequest request, GeoServerOptions options, OnnxImageEncoder? encoder, CancellationToken ct)
    {
        if (encoder is null) throw new ArgumentException("This server has no image encoder (geotoken serve --encoder M.onnx); send feature vectors as JSON instead.");
        var form = await request.ReadFormAsync(ct).ConfigureAwait(false);
        if (form.Files.Count == 0) throw new ArgumentException("The form holds no photo (send files as multipart/form-data).");
        if (form.Files.Count > options.MaxImagesPerRequest) throw new ArgumentException($"The request has {form.Files.Count} photos; at most {options.MaxImagesPerRequest} per request.");
        var queries = new List<GeoQuery>(form.Files.Count);
        foreach (var file in form.Files)
        {
            await using var stream = file.OpenReadStream();
            string name = string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName;
            queries.Add(GeoQuery.FromImageFeatures(await encoder.EncodeAsync(stream, name, ct).ConfigureAwait(false), name));
        }

        return queries;
    }

    private sealed record PredictRequestJson(IReadOnlyList<QueryJson?>? Queries);

    private sealed record QueryJson(string? Id, IReadOnlyList<float[]?>? Features);

    private sealed record PredictResponseJson(IReadOnlyList<PredictionJson> Predictions);

    private sealed record HealthJson(string Status, long GalleryRows, int Modalities, int Dimension, bool Photos, int InFlight);

    private sealed record ErrorJson(string Error);
}

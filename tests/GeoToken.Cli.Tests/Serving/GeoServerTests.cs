using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GeoToken.Cli.Serving;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.SynthGeo;
using GeoToken.Tokens;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace GeoToken.Cli.Tests.Serving;

/// <summary>A tiny model and SynthGeo gallery behind the predictor the service tests share.</summary>
public sealed class ServedPredictor : IAsyncLifetime
{
    private string? _dir;

    public GeoTokenPredictor Predictor { get; private set; } = null!;

    public GeoDataset Test { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _dir = CliRunner.TempDir();
        var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = _dir, TrainRows = 2000, TestRows = 20, Dimension = 32, Seed = 9 });
        string model = SaveUntrainedModel(Path.Combine(_dir, "m.gtm"), featureDimension: 32, seed: 5);

        Predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions { ModelPath = model, Runtimes = [TorchGeoTokenRuntime.Cpu], GalleryDirectory = synth.TrainDirectory, Pool = new CandidatePoolOptions { Samples = 4 } });
        Test = GeoDataset.Open(synth.TestDirectory);
    }

    /// <summary>Saves a tiny untrained one-view model (1 encoder and 1 decoder layer of width 32) over features of <paramref name="featureDimension"/>.</summary>
    internal static string SaveUntrainedModel(string path, int featureDimension, int seed)
    {
        random.manual_seed(seed);
        using var m = new GeoTokenModel(new GeoTokenModelOptions
        {
            ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 1, DecoderLayers = 1, Dropout = 0,
            ModalityCount = 1, FeatureDimension = featureDimension, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 },
        });
        GeoTokenModelFile.Save(m, path);
        return path;
    }

    public ValueTask DisposeAsync()
    {
        Predictor?.Dispose();
        Test?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    public float[] Features(long row)
    {
        var f = new float[Test.Dimension];
        Test.Image.ReadRow(row, f);
        return f;
    }
}

/// <summary>geotoken serve's service over loopback HTTP: answers, limits, busy answers and disconnects.</summary>
public sealed class GeoServerTests(ServedPredictor served) : IClassFixture<ServedPredictor>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(GeoServer Server, HttpClient Client, LogSink Logs)> StartAsync(GeoServerOptions? options = null)
    {
        var logs = new LogSink();
        var server = GeoServer.Create((options ?? new GeoServerOptions()) with { Port = 0 }, served.Predictor, encoder: null, l => l.AddProvider(logs));
        await server.StartAsync(Ct);
        Assert.Equal("127.0.0.1", server.Address.Host);
        return (server, new HttpClient { BaseAddress = server.Address }, logs);
    }

    private object Request(params long[] rows) => new { queries = rows.Select(r => new { id = $"test {r}", features = new[] { served.Features(r) } }) };

    [Fact]
    public async Task Health_and_predictions_over_loopback_equal_the_predictors()
    {
        var (server, client, logs) = await StartAsync();
        await using var _ = server;
        using var __ = client;
        using (var health = JsonDocument.Parse(await client.GetStringAsync("/health", Ct)))
        {
            Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
            Assert.Equal(2000, health.RootElement.GetProperty("gallery_rows").GetInt64());
            Assert.Equal(0, health.RootElement.GetProperty("in_flight").GetInt32());
        }

        using var response = await client.PostAsJsonAsync("/predict", Request(3, 7), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var predictions = doc.RootElement.GetProperty("predictions");
        Assert.Equal(2, predictions.GetArrayLength());
        var direct = await served.Predictor.PredictAsync([GeoQuery.FromImageFeatures(served.Features(3), "test 3"), GeoQuery.FromImageFeatures(served.Features(7), "test 7")], Ct);
        for (int i = 0; i < 2; i++)
        {
            var p = predictions[i];
            Assert.Equal(direct[i].Id, p.GetProperty("id").GetString());
            var best = p.GetProperty("locations")[0];
            Assert.Equal(direct[i].Best.Position.Latitude, best.GetProperty("lat").GetDouble());
            Assert.Equal(direct[i].Best.Position.Longitude, best.GetProperty("lon").GetDouble());
            Assert.Equal(direct[i].Best.CellToken, best.GetProperty("s2_cell").GetString());
            Assert.Equal(direct[i].UncertaintyKm, p.GetProperty("uncertainty_km").GetDouble());
            Assert.InRange(p.GetProperty("locations").GetArrayLength(), 1, 3);
        }

        Assert.Contains(logs.Messages, m => m.StartsWith("predict 2 images in ", StringComparison.Ordinal) && m.EndsWith("→ 200", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_requests_are_answered_with_what_is_wrong()
    {
        var (server, client, _) = await StartAsync(new GeoServerOptions { MaxRequestBytes = 4096 });
        await using var _s = server;
        using var _c = client;

        using var wrongWidth = await client.PostAsJsonAsync("/predict", new { queries = new[] { new { id = "narrow", features = new[] { new float[] { 1, 2, 3 } } } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, wrongWidth.StatusCode);
        Assert.Contains("narrow", await wrongWidth.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var empty = await client.PostAsJsonAsync("/predict", new { queries = Array.Empty<object>() }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("no queries", await empty.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var text = await client.PostAsync("/predict", new StringContent("hello", Encoding.UTF8, "text/plain"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);

        using var form = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "photo", "a.jpg" } };
        using var photo = await client.PostAsync("/predict", form, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, photo.StatusCode);
        Assert.Contains("no image encoder", await photo.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var big = await client.PostAsync("/predict", new StringContent(new string(' ', 10_000), Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
    }

    [Fact]
    public async Task A_full_service_answers_503_and_a_disconnected_request_is_cancelled()
    {
        var (server, client, logs) = await StartAsync(new GeoServerOptions { MaxConcurrentRequests = 1, QueueLength = 0 });
        await using var _s = server;
        using var _c = client;

        // The first request holds the only slot: its body never finishes until its client gives up.
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var stalled = client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = new StallingContent() }, HttpCompletionOption.ResponseHeadersRead, giveUp.Token);
        await WaitForAsync(async () => await InFlightAsync(client) == 1);

        using var busy = await client.PostAsJsonAsync("/predict", Request(1), Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Contains("busy", await busy.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("1", busy.Headers.RetryAfter?.ToString());

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stalled);
        await WaitForAsync(async () => await InFlightAsync(client) == 0 && logs.Messages.Any(m => m.Contains("the client disconnected", StringComparison.Ordinal)));

        using var again = await client.PostAsJsonAsync("/predict", Request(1), Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private static async Task<int> InFlightAsync(HttpClient client)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/health", Ct));
        return doc.RootElement.GetProperty("in_flight").GetInt32();
    }

    /// <summary>Polls a condition on the server's state (no timing is asserted; the test's own timeout bounds the wait).</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        while (!await condition()) await Task.Delay(20, Ct);
    }

    /// <summary>A JSON body that starts and then waits until the request is cancelled.</summary>
    private sealed class StallingContent : HttpContent
    {
        public StallingContent() => Headers.ContentType = new("application/json");

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync("{\"queries\": ["u8.ToArray(), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>Collects formatted log messages.</summary>
    private sealed class LogSink : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => new Logger(_messages);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}

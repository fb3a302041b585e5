using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.Cli.Serving;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Model;
using GeoToken.Model.Decoding;
using GeoToken.Model.Prediction;
using GeoToken.Onnx;
using GeoToken.Preprocessing;
using GeoToken.Reports.Geography;
using GeoToken.SynthGeo;
using GeoToken.Tokens;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace GeoToken.Cli.Tests.Serving;

/// <summary>
/// <c>geotoken serve</c> with photos: a tiny untrained model over a SynthGeo gallery of SqueezeNet-sized (512-d) features
/// and the bundled SqueezeNet as the encoder (the answers mean nothing; the path from a photo to the page is what is
/// tested), served on a free loopback port.
/// </summary>
public sealed class PhotoServer : IAsyncLifetime
{
    private string? _dir;
    private GeoTokenPredictor? _predictor;
    private OnnxImageEncoder? _encoder;

    internal GeoServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _dir = CliRunner.TempDir();
        var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = _dir, TrainRows = 2000, TestRows = 1, Dimension = 512, Seed = 4 });
        random.manual_seed(3);
        string model = Path.Combine(_dir, "m.gtm");
        using (var m = new GeoTokenModel(new GeoTokenModelOptions
        {
            ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 1, DecoderLayers = 1, Dropout = 0,
            ModalityCount = 1, FeatureDimension = 512, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 },
        }))
        {
            GeoTokenModelFile.Save(m, model);
        }

        _predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions { ModelPath = model, GalleryDirectory = synth.TrainDirectory, Pool = new CandidatePoolOptions { Samples = 8 }, UncertaintyMass = 1 });
        _encoder = new OnnxImageEncoder(CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx"), new OnnxImageEncoderOptions { Preprocessing = ImagePreprocessing.CaffeSqueezeNet, OutputName = "pool10_flattened" });
        Server = GeoServer.Create(new GeoServerOptions { Port = 0, Top = 5 }, _predictor, _encoder, l => l.SetMinimumLevel(LogLevel.None));
        await Server.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        _encoder?.Dispose();
        _predictor?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>The page at <c>/</c> of <c>geotoken serve</c>: its assets and headers, and the page itself in a real headless Chromium.</summary>
public sealed class GeoPageTests(PhotoServer served) : IClassFixture<PhotoServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Photo => CliRunner.OnnxTestData("photos", "DSCN0010.jpg");

    [Fact]
    public async Task The_page_its_assets_and_the_world_outlines_are_served_with_a_self_only_policy_and_revalidated()
    {
        using var client = new HttpClient { BaseAddress = served.Server.Address };
        foreach (var (path, type) in new[] { ("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css"), ("/world.json", "application/json") })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(GeoPage.ContentSecurityPolicy, string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            var etag = response.Headers.ETag;
            Assert.NotNull(etag);

            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.IfNoneMatch.Add(etag);
            using var revalidated = await client.SendAsync(again, Ct);
            Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        }

        // The policy allows this origin only: no inline script or style, nothing from another host.
        Assert.DoesNotContain("unsafe-inline", GeoPage.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.DoesNotContain("http", GeoPage.ContentSecurityPolicy, StringComparison.Ordinal);
        string html = await client.GetStringAsync("/", Ct);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);

        // world.json is the bundled Natural Earth data, every vertex within the rounding of 0.001°.
        using var world = JsonDocument.Parse(await client.GetStringAsync("/world.json", Ct));
        var countries = world.RootElement.GetProperty("countries");
        Assert.Equal(WorldOutlines.Countries.Count, countries.GetArrayLength());
        for (int c = 0; c < WorldOutlines.Countries.Count; c++)
        {
            var expected = WorldOutlines.Countries[c];
            Assert.Equal(expected.Name, countries[c].GetProperty("name").GetString());
            var rings = countries[c].GetProperty("rings");
            Assert.Equal(expected.Rings.Count, rings.GetArrayLength());
            for (int r = 0; r < expected.Rings.Count; r++)
            {
                var flat = rings[r].EnumerateArray().Select(v => v.GetDouble()).ToArray();
                Assert.Equal(expected.Rings[r].Length * 2, flat.Length);
                for (int i = 0; i < expected.Rings[r].Length; i++)
                {
                    Assert.InRange(Math.Abs(flat[2 * i] - expected.Rings[r][i][0]), 0, 0.0005 + 1e-12);
                    Assert.InRange(Math.Abs(flat[2 * i + 1] - expected.Rings[r][i][1]), 0, 0.0005 + 1e-12);
                }
            }
        }
    }

    [Fact]
    public async Task A_file_the_encoder_cannot_decode_is_a_bad_request_naming_it()
    {
        using var client = new HttpClient { BaseAddress = served.Server.Address };
        using var form = new MultipartFormDataContent { { new ByteArrayContent("not a photo"u8.ToArray()), "photo", "notes.jpg" } };
        using var response = await client.PostAsync("/predict", form, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("notes.jpg", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_photo_uploaded_in_headless_chromium_is_drawn_as_the_service_answers_it()
    {
        // What the service answers for the photo, asked directly.
        using var client = new HttpClient { BaseAddress = served.Server.Address };
        using var form = new MultipartFormDataContent();
        var bytes = new ByteArrayContent(await File.ReadAllBytesAsync(Photo, Ct));
        bytes.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(bytes, "photo", Path.GetFileName(Photo));
        using var direct = await client.PostAsync("/predict", form, Ct);
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
        using var answerDoc = JsonDocument.Parse(await direct.Content.ReadAsStringAsync(Ct));
        var answer = answerDoc.RootElement.GetProperty("predictions")[0];
        var locations = answer.GetProperty("locations").EnumerateArray().ToArray();
        Assert.NotEmpty(locations);
        double radiusKm = answer.GetProperty("uncertainty_km").GetDouble();
        Assert.True(radiusKm > 0, $"the fixture's answer has uncertainty {radiusKm} km; the circle needs a positive radius");

        // A liveness bound (a hung browser fails the test instead of hanging it), not a timing assertion.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bounded.CancelAfter(TimeSpan.FromMinutes(3));
        var ct = bounded.Token;
        await using var chromium = await HeadlessChromium.StartAsync(ct);
        string page = await chromium.OpenPageAsync(ct);
        foreach (var domain in new[] { "Page.enable", "Network.enable", "DOM.enable", "Runtime.enable" }) await chromium.SendAsync(domain, null, page, ct);
        await chromium.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = 1200, ["height"] = 900, ["deviceScaleFactor"] = 1, ["mobile"] = false }, page, ct);
        await chromium.SendAsync("Page.navigate", new JsonObject { ["url"] = served.Server.Address.ToString() }, page, ct);
        await chromium.WaitForEventAsync("Page.loadEventFired", _ => true, ct);
        await WaitForAsync(chromium, page, "document.querySelectorAll('#world path.country').length > 0", ct);
        Assert.Equal(WorldOutlines.Countries.Count, (await chromium.EvaluateAsync(page, "document.querySelectorAll('#world path.country').length", ct)).GetInt32());

        // The photo goes in through the file input, as a user's choice would.
        string state = await UploadAsync(chromium, page, Photo, ct);
        Assert.True(state == "done", $"the page ended in state {state}: {await TextAsync(chromium, page, "#status", ct)}");

        // One marker per answered location, labelled with its rank, at its position (longitudes may be shifted by
        // whole turns to sit beside the best answer across the antimeridian; the page rounds to 0.001°).
        var markers = await chromium.EvaluateAsync(page, """
            [...document.querySelectorAll('#result g.candidate')].map(g => ({
              rank: +g.dataset.rank, label: g.querySelector('text').textContent, top: g.classList.contains('top'),
              x: +g.querySelector('circle').getAttribute('cx'), y: +g.querySelector('circle').getAttribute('cy') }))
            """, ct);
        Assert.Equal(locations.Length, markers.GetArrayLength());
        var byRank = markers.EnumerateArray().ToDictionary(m => m.GetProperty("rank").GetInt32());
        foreach (var l in locations)
        {
            var m = byRank[l.GetProperty("rank").GetInt32()];
            Assert.Equal(l.GetProperty("rank").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), m.GetProperty("label").GetString());
            Assert.Equal(l.GetProperty("rank").GetInt32() == 1, m.GetProperty("top").GetBoolean());
            Assert.InRange(Math.Abs(m.GetProperty("y").GetDouble() + l.GetProperty("lat").GetDouble()), 0, 0.0005 + 1e-9);
            double dx = m.GetProperty("x").GetDouble() - l.GetProperty("lon").GetDouble();
            Assert.InRange(Math.Abs(dx - 360 * Math.Round(dx / 360)), 0, 0.0005 + 1e-9);
        }

        // The listed places: the best answer's nearest place first, every place with its distance.
        var top = locations[0];
        string expectedTop = top.GetProperty("place").GetString() is { } place
            ? (top.GetProperty("country").GetString() is { } country ? $"{place}, {country}" : place)
            : "no place known";
        Assert.Equal(expectedTop, await TextAsync(chromium, page, "#candidates tbody tr.top td.place", ct));
        var rows = await chromium.EvaluateAsync(page, "[...document.querySelectorAll('#candidates tbody tr')].map(r => [r.querySelector('.rank').textContent, r.querySelector('.distance').textContent, r.querySelector('.score').textContent])", ct);
        Assert.Equal(locations.Length, rows.GetArrayLength());
        for (int i = 0; i < locations.Length; i++)
        {
            Assert.Equal(locations[i].GetProperty("rank").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), rows[i][0].GetString());
            if (locations[i].GetProperty("place_distance_km").ValueKind == JsonValueKind.Number)
            {
                Assert.Equal(locations[i].GetProperty("place_distance_km").GetDouble().ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " km", rows[i][1].GetString());
            }

            Assert.Equal(locations[i].GetProperty("score").GetDouble().ToString("F3", System.Globalization.CultureInfo.InvariantCulture), rows[i][2].GetString());
        }

        // The uncertainty circle around the best answer: its latitude extent is the radius either side of the centre
        // (the polygon holds the due-north and due-south points exactly), unless the circle reaches a pole.
        var box = await chromium.EvaluateAsync(page, "(() => { const p = document.querySelector('#result path.uncertainty'); if (!p) return null; const b = p.getBBox(); return { d: p.getAttribute('d').length, y0: b.y, y1: b.y + b.height }; })()", ct);
        Assert.Equal(JsonValueKind.Object, box.ValueKind);
        Assert.True(box.GetProperty("d").GetInt32() > 100);
        double lat = top.GetProperty("lat").GetDouble(), delta = radiusKm / Geodesy.EarthRadiusKm * 180 / Math.PI;
        if (lat + delta < 90 && lat - delta > -90)
        {
            Assert.InRange(box.GetProperty("y0").GetDouble(), -(lat + delta) - 0.002, -(lat + delta) + 0.002);
            Assert.InRange(box.GetProperty("y1").GetDouble(), -(lat - delta) - 0.002, -(lat - delta) + 0.002);
        }
        else
        {
            Assert.True(box.GetProperty("y0").GetDouble() <= -89.999 || box.GetProperty("y1").GetDouble() >= 89.999, "a circle over a pole is closed along the map's edge");
        }

        byte[] png = Convert.FromBase64String((await chromium.SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, page, ct)).GetProperty("data").GetString()!);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        if (Environment.GetEnvironmentVariable("GEOTOKEN_UPDATE_SCREENSHOT") == "1")
        {
            AtomicFile.Write(Path.Combine(RepositoryRoot(), "docs", "images", "serve-page.png"), s => s.Write(png));
        }

        // A file the encoder cannot read: the server's 400 becomes one readable line, and the old answer is gone.
        string notAPhoto = Path.Combine(CliRunner.TempDir(), "notes.jpg");
        try
        {
            await File.WriteAllTextAsync(notAPhoto, "not a photo", Ct);
            Assert.Equal("error", await UploadAsync(chromium, page, notAPhoto, ct));
            string line = await TextAsync(chromium, page, "#status", ct);
            Assert.StartsWith("Error 400: ", line, StringComparison.Ordinal);
            Assert.Contains("notes.jpg", line, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', line);
            Assert.Equal(0, (await chromium.EvaluateAsync(page, "document.querySelectorAll('#result g.candidate').length", ct)).GetInt32());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(notAPhoto)!, recursive: true);
        }

        // Nothing the page asked for left this server on loopback.
        var requests = chromium.Events.Where(e => e.Method == "Network.requestWillBeSent").Select(e => e.Params.GetProperty("request").GetProperty("url").GetString()!).ToList();
        Assert.Contains(requests, u => u.EndsWith("/predict", StringComparison.Ordinal));
        Assert.Contains(requests, u => u.EndsWith("/world.json", StringComparison.Ordinal));
        Assert.All(requests, u =>
        {
            var uri = new Uri(u);
            Assert.True(uri.Scheme is "blob" or "data" || (uri.IsLoopback && uri.Port == served.Server.Address.Port), $"the page requested {u}");
        });
    }

    /// <summary>Puts a file into the page's file input (which fires its change event) and waits for the page to settle on done or error.</summary>
    private static async Task<string> UploadAsync(HeadlessChromium chromium, string page, string file, CancellationToken ct)
    {
        var document = await chromium.SendAsync("DOM.getDocument", null, page, ct);
        var input = await chromium.SendAsync("DOM.querySelector", new JsonObject { ["nodeId"] = document.GetProperty("root").GetProperty("nodeId").GetInt32(), ["selector"] = "input[type=file]" }, page, ct);
        await chromium.SendAsync("DOM.setFileInputFiles", new JsonObject { ["files"] = new JsonArray(file), ["nodeId"] = input.GetProperty("nodeId").GetInt32() }, page, ct);
        await WaitForAsync(chromium, page, "document.getElementById('status').dataset.state !== 'busy' && document.getElementById('status').dataset.state !== 'idle'", ct);
        return (await chromium.EvaluateAsync(page, "document.getElementById('status').dataset.state", ct)).GetString()!;
    }

    private static async Task<string> TextAsync(HeadlessChromium chromium, string page, string selector, CancellationToken ct) =>
        (await chromium.EvaluateAsync(page, $"document.querySelector({JsonSerializer.Serialize(selector)})?.textContent ?? null", ct)).GetString() ?? $"(no {selector})";

    /// <summary>Polls a condition in the page (no timing is asserted; the caller's token bounds the wait).</summary>
    private static async Task WaitForAsync(HeadlessChromium chromium, string page, string condition, CancellationToken ct)
    {
        while (!(await chromium.EvaluateAsync(page, condition, ct)).GetBoolean()) await Task.Delay(50, ct);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GeoToken.sln"))) return dir.FullName;
        }

        throw new DirectoryNotFoundException($"GeoToken.sln not found above {AppContext.BaseDirectory}");
    }
}

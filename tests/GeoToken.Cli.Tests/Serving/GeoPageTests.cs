using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GeoToken.Cli.Serving;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Model;
using GeoToken.Onnx;
using GeoToken.Prediction;
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

    /// <summary>The largest request <see cref="SmallServer"/> takes (the bundled photos are larger).</summary>
    public const long SmallRequestBytes = 32 << 10;

    /// <summary>The same service taking requests of at most <see cref="SmallRequestBytes"/>.</summary>
    internal GeoServer SmallServer { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _dir = CliRunner.TempDir();
        var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = _dir, TrainRows = 2000, TestRows = 1, Dimension = 512, Seed = 4 });
        string model = ServedPredictor.SaveUntrainedModel(Path.Combine(_dir, "m.gtm"), featureDimension: 512, seed: 3);

        // An untrained model puts nearly all the pool's probability on its first answer, so the radius holding 90% of it
        // is 0 km; the radius holding all of it (the farthest candidate with any) gives the page a circle to draw.
        _predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions { ModelPath = model, Runtimes = [TorchGeoTokenRuntime.Cpu], GalleryDirectory = synth.TrainDirectory, Pool = new CandidatePoolOptions { Samples = 8 }, UncertaintyMass = 1 });
        _encoder = new OnnxImageEncoder(CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx"), new OnnxImageEncoderOptions { Preprocessing = ImagePreprocessing.CaffeSqueezeNet, OutputName = "pool10_flattened" });
        Server = GeoServer.Create(new GeoServerOptions { Port = 0, Top = 5 }, _predictor, _encoder, l => l.SetMinimumLevel(LogLevel.None));
        await Server.StartAsync();
        SmallServer = GeoServer.Create(new GeoServerOptions { Port = 0, MaxRequestBytes = SmallRequestBytes }, _predictor, _encoder, l => l.SetMinimumLevel(LogLevel.None));
        await SmallServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (SmallServer is not null) await SmallServer.DisposeAsync();
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

        await using var browser = await BrowserPage.OpenAsync(served.Server.Address);
        var (chromium, page, ct) = browser;
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
            Assert.Equal(l.GetProperty("rank").GetInt32().ToString(CultureInfo.InvariantCulture), m.GetProperty("label").GetString());
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
            Assert.Equal(locations[i].GetProperty("rank").GetInt32().ToString(CultureInfo.InvariantCulture), rows[i][0].GetString());
            if (locations[i].GetProperty("place_distance_km").ValueKind == JsonValueKind.Number)
            {
                Assert.Equal(locations[i].GetProperty("place_distance_km").GetDouble().ToString("F1", CultureInfo.InvariantCulture) + " km", rows[i][1].GetString());
            }

            Assert.Equal(locations[i].GetProperty("score").GetDouble().ToString("F3", CultureInfo.InvariantCulture), rows[i][2].GetString());
        }

        // The uncertainty circle around the best answer: its latitude extent is the radius either side of the centre
        // (the polygon holds the due-north and due-south points exactly), unless the circle reaches a pole.
        var box = await chromium.EvaluateAsync(page, "(() => { const p = document.querySelector('#result path.uncertainty'); if (!p) return null; const b = p.getBBox(); return { d: p.getAttribute('d').length, rule: getComputedStyle(p).fillRule, y0: b.y, y1: b.y + b.height }; })()", ct);
        Assert.Equal(JsonValueKind.Object, box.ValueKind);
        Assert.True(box.GetProperty("d").GetInt32() > 100);
        Assert.Equal("evenodd", box.GetProperty("rule").GetString()); // what the geometry test below fills with
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

    [Fact]
    public async Task A_dropped_photo_larger_than_the_service_takes_is_one_readable_error_line()
    {
        await using var browser = await BrowserPage.OpenAsync(served.SmallServer.Address);
        var (chromium, page, ct) = browser;

        // This photo is dropped on the page, as a user would drag it from a file manager.
        Assert.True(new FileInfo(Photo).Length > PhotoServer.SmallRequestBytes);
        var target = await chromium.EvaluateAsync(page, "(r => [r.x + r.width / 2, r.y + r.height / 2])(document.getElementById('drop').getBoundingClientRect())", ct);
        foreach (var type in new[] { "dragEnter", "dragOver", "drop" })
        {
            await chromium.SendAsync("Input.dispatchDragEvent", new JsonObject
            {
                ["type"] = type, ["x"] = target[0].GetDouble(), ["y"] = target[1].GetDouble(),
                ["data"] = new JsonObject { ["items"] = new JsonArray(), ["files"] = new JsonArray(Photo), ["dragOperationsMask"] = 1 },
            }, page, ct);
        }

        Assert.Equal("error", await SettledAsync(chromium, page, Photo, ct));
        string line = await TextAsync(chromium, page, "#status", ct);
        Assert.StartsWith("Error 413: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.Equal(0, (await chromium.EvaluateAsync(page, "document.querySelectorAll('#result g.candidate').length", ct)).GetInt32());
    }

    [Fact]
    public async Task The_uncertainty_circle_is_the_geodesic_circle_near_the_poles_across_the_antimeridian_and_beyond_a_hemisphere()
    {
        await using var browser = await BrowserPage.OpenAsync(served.Server.Address);
        var (chromium, page, ct) = browser;

        // A grid of map points (never on the meridians or parallels the circles are centred on).
        var grid = new List<(double Lat, double Lon)>();
        for (double lat = -88.7; lat < 90; lat += 4.1)
        {
            for (double lon = -179.3; lon < 180; lon += 4.3) grid.Add((lat, lon));
        }

        string gridJson = JsonSerializer.Serialize(grid.Select(p => new[] { p.Lon, -p.Lat }));
        foreach (var (lat, lon, km, what) in new[]
        {
            (43.47, 11.88, 50.0, "Tuscany, small"),
            (0.5, 179.0, 800.0, "across the antimeridian"),
            (85.0, 30.0, 1000.0, "around the north pole"),
            (-80.0, -170.0, 2500.0, "around the south pole and across the antimeridian"),
            (-4.39, 70.82, 12920.0, "more than a hemisphere"),
            (70.0, 20.0, 15000.0, "more than a hemisphere, the rest around the south pole"),
            (10.0, 10.0, 25000.0, "the whole sphere"),
        })
        {
            var drawn = await chromium.EvaluateAsync(page, $$"""
                (() => {
                  const d = GeoTokenMap.circlePath({{lat.ToString(CultureInfo.InvariantCulture)}}, {{lon.ToString(CultureInfo.InvariantCulture)}}, {{km.ToString(CultureInfo.InvariantCulture)}});
                  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
                  p.setAttribute('d', d);
                  p.setAttribute('fill-rule', 'evenodd');
                  document.getElementById('result').appendChild(p);
                  const inside = {{gridJson}}.map(([x, y]) => p.isPointInFill(new DOMPoint(x, y)));
                  p.remove();
                  return { d, inside };
                })()
                """, ct);
            string d = drawn.GetProperty("d").GetString()!;
            var center = new LatLng(lat, lon);

            // Every vertex off the map's top and bottom edges lies on the circle (the page rounds to 0.001°, ≤ 0.16 km),
            // and no edge jumps across the map (only the edges along a pole's map edge, and the map's own frame, are long).
            int subpaths = 0;
            foreach (var ring in Subpaths(d))
            {
                subpaths++;
                for (int i = 0; i < ring.Count; i++)
                {
                    var (x, y) = ring[i];
                    bool frame = Math.Abs(x) == 540;
                    if (Math.Abs(y) < 89.999 && !frame)
                    {
                        double wrapped = x - 360 * Math.Round(x / 360);
                        Assert.InRange(Geodesy.HaversineKm(center, new LatLng(-y, wrapped)), km - 0.2, km + 0.2);
                    }

                    var (nx, ny) = ring[(i + 1) % ring.Count];
                    bool alongEdge = (Math.Abs(Math.Abs(y) - 90) < 1e-9 && y == ny) || frame || Math.Abs(nx) == 540;
                    Assert.True(alongEdge || Math.Abs(nx - x) < 45, $"{what}: the edge ({x}, {y}) → ({nx}, {ny}) jumps across the map");
                }
            }

            Assert.True(subpaths >= (km >= Math.PI * Geodesy.EarthRadiusKm ? 1 : 3), $"{what}: {subpaths} subpaths");

            // The fill is the cap: each grid point clearly inside (or outside) the circle is (or is not) filled.
            var inside = drawn.GetProperty("inside").EnumerateArray().Select(v => v.GetBoolean()).ToArray();
            int checkedPoints = 0;
            for (int i = 0; i < grid.Count; i++)
            {
                double distance = Geodesy.HaversineKm(center, new LatLng(grid[i].Lat, grid[i].Lon));
                if (Math.Abs(distance - km) < 0.02 * km + 20) continue; // too close to the polygon's chords to call
                checkedPoints++;
                Assert.True(inside[i] == distance < km, $"{what}: ({grid[i].Lat}, {grid[i].Lon}) is {distance:F0} km from the centre but {(inside[i] ? "filled" : "not filled")}");
            }

            Assert.True(checkedPoints > grid.Count / 2, $"{what}: only {checkedPoints} points checked");
        }
    }

    [Theory]
    [InlineData("Tuscany", 43.47, 11.88, 43.52, 11.80, 43.30, 12.05, 25.0)]
    [InlineData("across the antimeridian", -16.5, 179.6, -17.0, -179.4, -16.0, 178.9, 120.0)]
    public async Task A_small_answer_is_zoomed_to_with_its_candidates_side_by_side_and_the_whole_world_is_one_click_away(
        string what, double lat1, double lon1, double lat2, double lon2, double lat3, double lon3, double radiusKm)
    {
        await using var browser = await BrowserPage.OpenAsync(served.Server.Address);
        var (chromium, page, ct) = browser;

        (double Lat, double Lon)[] positions = [(lat1, lon1), (lat2, lon2), (lat3, lon3)];
        var prediction = new JsonObject
        {
            ["id"] = what, ["uncertainty_km"] = radiusKm, ["uncertainty_mass"] = 0.9, ["uncertainty_calibrated"] = false, ["decided_by"] = "consensus",
            ["locations"] = new JsonArray([.. positions.Select((p, i) => (JsonNode)new JsonObject
            {
                ["rank"] = i + 1, ["lat"] = p.Lat, ["lon"] = p.Lon, ["s2_cell"] = null, ["score"] = -i, ["place"] = null, ["country"] = null, ["place_distance_km"] = null,
            })]),
        };
        const string Read = """
            (() => {
              const v = document.getElementById('map').viewBox.baseVal;
              return { view: [v.x, v.y, v.width, v.height],
                       markers: [...document.querySelectorAll('#result g.candidate circle')].map(c => [+c.getAttribute('cx'), +c.getAttribute('cy')]) };
            })()
            """;
        var zoomed = await chromium.EvaluateAsync(page, $"GeoTokenMap.show({prediction.ToJsonString()}); ({Read})", ct);
        var view = zoomed.GetProperty("view").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var markers = zoomed.GetProperty("markers").EnumerateArray().Select(m => (X: m[0].GetDouble(), Y: m[1].GetDouble())).ToArray();
        Assert.Equal(3, markers.Length);

        // Zoomed in: the view (2:1, like the map) holds every candidate and the whole circle, and is far smaller than the world.
        Assert.InRange(view[2], 1, 20);
        Assert.Equal(view[2] / 2, view[3], 1e-6);
        double delta = radiusKm / Geodesy.EarthRadiusKm * 180 / Math.PI;
        Assert.InRange(-(lat1 + delta), view[1], view[1] + view[3]);
        Assert.InRange(-(lat1 - delta), view[1], view[1] + view[3]);
        foreach (var (x, y) in markers)
        {
            Assert.InRange(x, view[0], view[0] + view[2]);
            Assert.InRange(y, view[1], view[1] + view[3]);
        }

        // Side by side: the drawn candidates are as far apart in longitude as they are on the globe (≤ 180°), even across the antimeridian.
        foreach (var (x, _) in markers) Assert.InRange(Math.Abs(x - markers[0].X), 0, 5);

        // One click shows the whole world, every candidate on the map at its own longitude.
        var world = await chromium.EvaluateAsync(page, $"document.getElementById('zoom').click(); ({Read})", ct);
        Assert.Equal([-180.0, -90, 360, 180], world.GetProperty("view").EnumerateArray().Select(v => v.GetDouble()));
        var onWorld = world.GetProperty("markers").EnumerateArray().Select(m => m[0].GetDouble()).ToArray();
        Assert.All(onWorld, x => Assert.InRange(x, -180, 180));
        Assert.Equal(positions.Select(p => p.Lon).Order(), onWorld.Order(), (a, b) => Math.Abs(a - b) < 0.0005 + 1e-9);
    }

    /// <summary>The vertices of each subpath of SVG path data made of absolute M, L, H, V and Z commands.</summary>
    private static List<List<(double X, double Y)>> Subpaths(string d)
    {
        var rings = new List<List<(double X, double Y)>>();
        List<(double X, double Y)>? ring = null;
        double x = 0, y = 0;
        foreach (Match m in Regex.Matches(d, "([MLHVZ])([^MLHVZ]*)"))
        {
            var numbers = m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            switch (m.Groups[1].Value)
            {
                case "M":
                    ring = [];
                    rings.Add(ring);
                    (x, y) = (numbers[0], numbers[1]);
                    break;
                case "L":
                    (x, y) = (numbers[0], numbers[1]);
                    break;
                case "H":
                    x = numbers[0];
                    break;
                case "V":
                    y = numbers[0];
                    break;
                default:
                    continue; // Z
            }

            Assert.NotNull(ring);
            ring.Add((x, y));
        }

        return rings;
    }

    /// <summary>Puts a file into the page's file input (which fires its change event) and waits for the page to settle on done or error.</summary>
    private static async Task<string> UploadAsync(HeadlessChromium chromium, string page, string file, CancellationToken ct)
    {
        var document = await chromium.SendAsync("DOM.getDocument", null, page, ct);
        var input = await chromium.SendAsync("DOM.querySelector", new JsonObject { ["nodeId"] = document.GetProperty("root").GetProperty("nodeId").GetInt32(), ["selector"] = "input[type=file]" }, page, ct);
        await chromium.SendAsync("DOM.setFileInputFiles", new JsonObject { ["files"] = new JsonArray(file), ["nodeId"] = input.GetProperty("nodeId").GetInt32() }, page, ct);
        return await SettledAsync(chromium, page, file, ct);
    }

    /// <summary>Waits until the page has answered for <paramref name="file"/> (done or error) and returns that state.</summary>
    private static async Task<string> SettledAsync(HeadlessChromium chromium, string page, string file, CancellationToken ct)
    {
        string name = JsonSerializer.Serialize(Path.GetFileName(file));
        await WaitForAsync(chromium, page, $"(s => s.dataset.photo === {name} && (s.dataset.state === 'done' || s.dataset.state === 'error'))(document.getElementById('status'))", ct);
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

    /// <summary>Chromium with one tab open at a URL, and the token that bounds the test's wait for it; disposing closes both.</summary>
    private sealed class BrowserPage : IAsyncDisposable
    {
        private readonly CancellationTokenSource _bounded;

        private BrowserPage(CancellationTokenSource bounded, HeadlessChromium chromium, string page)
        {
            _bounded = bounded;
            Chromium = chromium;
            Page = page;
        }

        public HeadlessChromium Chromium { get; }

        public string Page { get; }

        /// <summary>Starts Chromium and opens <paramref name="url"/> in a 1200 × 900 tab that records its network requests.</summary>
        public static async Task<BrowserPage> OpenAsync(Uri url)
        {
            // A liveness bound (a hung browser fails the test instead of hanging it), not a timing assertion.
            var bounded = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            bounded.CancelAfter(TimeSpan.FromMinutes(3));
            var ct = bounded.Token;
            HeadlessChromium? chromium = null;
            try
            {
                chromium = await HeadlessChromium.StartAsync(ct);
                string page = await chromium.OpenPageAsync(ct);
                foreach (var domain in new[] { "Page.enable", "Network.enable", "DOM.enable", "Runtime.enable" }) await chromium.SendAsync(domain, null, page, ct);
                await chromium.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = 1200, ["height"] = 900, ["deviceScaleFactor"] = 1, ["mobile"] = false }, page, ct);
                await chromium.NavigateAsync(page, url, ct);
                return new BrowserPage(bounded, chromium, page);
            }
            catch
            {
                if (chromium is not null) await chromium.DisposeAsync();
                bounded.Dispose();
                throw;
            }
        }

        public void Deconstruct(out HeadlessChromium chromium, out string page, out CancellationToken ct) => (chromium, page, ct) = (Chromium, Page, _bounded.Token);

        public async ValueTask DisposeAsync()
        {
            await Chromium.DisposeAsync();
            _bounded.Dispose();
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GeoToken.Cli.Serving;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Prediction;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace GeoToken.Retrieval.PostgreSql.Tests.Serving;

/// <summary>
/// geotoken serve over a PostgreSQL gallery while its server restarts (a private server of the test's own, not the shared
/// fixture): requests fail with a one-line 503 while it is down, succeed again once it is back, and no row is lost or doubled.
/// </summary>
public sealed class PostgresRestartTests(SynthGallery data)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private enum Phase { Before, Restarting, After }

    private sealed record Outcome(Phase Started, HttpStatusCode Status, string Body);

    [Fact]
    public async Task Requests_during_a_restart_get_one_line_503s_those_after_it_succeed_and_no_row_is_lost_or_doubled()
    {
        await using var pg = await PrivatePostgres.StartAsync("shared_buffers=64MB");
        await using var source = PgGallery.CreateDataSource(pg.ConnectionString);
        const string table = "served";
        await PgGalleryPush.PushAsync(source, data.Train, new PgPushOptions { Table = table }, cancellationToken: Ct);
        await using var gallery = await PgGallery.OpenAsync(source, table, Ct);
        string model = PgPredictorTests.TinyModel("restart");
        try
        {
            // No gallery folder: every request reads its neighbors' rows from the database.
            using var predictor = GeoTokenPredictor.Open(new GeoTokenPredictorOptions { ModelPath = model, Runtimes = [TorchGeoTokenRuntime.Cpu], NeighborSearch = gallery, Pool = new CandidatePoolOptions { Samples = 4 } }, Ct);
            await using var server = GeoServer.Create(new GeoServerOptions { Port = 0, MaxConcurrentRequests = 4, QueueLength = 64 }, predictor, encoder: null, l => l.SetMinimumLevel(LogLevel.None));
            await server.StartAsync(Ct);
            using var http = new HttpClient { BaseAddress = server.Address };

            int phase = (int)Phase.Before;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var outcomes = new ConcurrentQueue<Outcome>();
            var acknowledged = new ConcurrentQueue<(Phase Started, string Id)>();
            var attempted = new ConcurrentQueue<string>();
            var addFailures = new ConcurrentQueue<(Phase Started, Exception Error)>();

            async Task ClientAsync(int client)
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    var started = (Phase)Volatile.Read(ref phase);
                    long row = (client * 37 + i) % data.Test.Rows;
                    var body = new { queries = new[] { new { id = $"c{client}-{i}", features = new[] { SynthGallery.Features(data.Test, row) } } } };
                    using var response = await http.PostAsJsonAsync("/predict", body, CancellationToken.None);
                    outcomes.Enqueue(new Outcome(started, response.StatusCode, await response.Content.ReadAsStringAsync(CancellationToken.None)));
                    if (response.StatusCode != HttpStatusCode.OK) await Task.Delay(10, CancellationToken.None);
                }
            }

            // Live additions go on too (the restart must neither lose an acknowledged one nor number one twice).
            async Task WriterAsync()
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    var started = (Phase)Volatile.Read(ref phase);
                    string id = $"live-{i}";
                    attempted.Enqueue(id);
                    try
                    {
                        var rows = await gallery.AddAsync([new PgGalleryRow { ImageId = id, Location = new LatLng(10 + i % 50, 20), Features = [SynthGallery.Features(data.Test, i % data.Test.Rows)] }], CancellationToken.None);
                        Assert.NotNull(rows[0]);
                        acknowledged.Enqueue((started, id));
                    }
                    catch (NpgsqlException e)
                    {
                        addFailures.Enqueue((started, e));
                    }

                    await Task.Delay(20, CancellationToken.None);
                }
            }

            var workers = Enumerable.Range(0, 3).Select(ClientAsync).Append(WriterAsync()).ToArray();
            await WaitUntilAsync(() => outcomes.Count(o => o.Status == HttpStatusCode.OK) >= 10 && !acknowledged.IsEmpty);
            Volatile.Write(ref phase, (int)Phase.Restarting);
            await pg.StopAsync("fast");
            await WaitUntilAsync(() => outcomes.Count(o => o.Started == Phase.Restarting && o.Status != HttpStatusCode.OK) >= 3);
            await pg.StartAgainAsync();
            Volatile.Write(ref phase, (int)Phase.After);
            await WaitUntilAsync(() => outcomes.Count(o => o.Started == Phase.After) >= 30 && acknowledged.Count(a => a.Started == Phase.After) >= 5);
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            foreach (var o in outcomes)
            {
                using var json = JsonDocument.Parse(o.Body);
                if (o.Status == HttpStatusCode.OK)
                {
                    foreach (var p in json.RootElement.GetProperty("predictions").EnumerateArray())
                    {
                        var best = p.GetProperty("locations")[0];
                        Assert.False(best.GetProperty("lat").GetDouble() == 0 && best.GetProperty("lon").GetDouble() == 0, "a (0, 0) prediction");
                        Assert.Equal(5, p.GetProperty("neighbors").GetArrayLength());
                    }

                    continue;
                }

                // Anything else is the database failure as one line (no stack trace), while the server was restarting.
                Assert.Equal(HttpStatusCode.ServiceUnavailable, o.Status);
                Assert.NotEqual(Phase.After, o.Started);
                string error = json.RootElement.GetProperty("error").GetString()!;
                Assert.StartsWith("the gallery database is unavailable: ", error);
                Assert.DoesNotContain('\n', error);
                Assert.DoesNotContain(" at ", error);
            }

            // Every request and addition started after the server was back succeeded (broken pooled connections were dropped).
            Assert.All(outcomes.Where(o => o.Started == Phase.After), o => Assert.Equal(HttpStatusCode.OK, o.Status));
            Assert.DoesNotContain(addFailures, f => f.Started == Phase.After);

            // The table: the pushed rows, every acknowledged addition, nothing beyond the attempted ones; ids unique, rows dense.
            var present = new List<(long Row, string Id)>();
            await using (var conn = await source.OpenConnectionAsync(Ct))
            await using (var cmd = new NpgsqlCommand($"SELECT row_no, img_id FROM {table} ORDER BY row_no", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct)) present.Add((reader.GetInt64(0), reader.GetString(1)));
            }

            Assert.Equal(Enumerable.Range(0, present.Count).Select(i => (long)i), present.Select(p => p.Row));
            var ids = present.Select(p => p.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            var pushed = Enumerable.Range(0, (int)data.Train.Rows).Select(r => data.Train.GetImageId(r)).ToHashSet();
            Assert.Subset(ids.ToHashSet(), pushed); // every pushed row is there
            var live = ids.Where(id => !pushed.Contains(id)).ToHashSet();
            Assert.Subset(live, acknowledged.Select(a => a.Id).ToHashSet()); // every acknowledged addition is there
            Assert.Subset(attempted.ToHashSet(), live); // and nothing else (an unacknowledged one may have committed)
            TestContext.Current.SendDiagnosticMessage($"requests: {outcomes.Count(o => o.Status == HttpStatusCode.OK)} answered, {outcomes.Count(o => o.Status != HttpStatusCode.OK)} refused; additions: {acknowledged.Count} acknowledged, {addFailures.Count} failed, {live.Count} present");
            Assert.Equal(ids.Count, predictor.GalleryRows);

            // A restart while idle leaves the pool's connections dead without any request noticing: the next request
            // still succeeds (the search finds its connection gone, empties the pool and searches once more).
            await pg.StopAsync("fast");
            await pg.StartAgainAsync();
            var first = new { queries = new[] { new { id = "after idle restart", features = new[] { SynthGallery.Features(data.Test, 0) } } } };
            using var again = await http.PostAsJsonAsync("/predict", first, Ct);
            Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync(Ct));
        }
        finally
        {
            File.Delete(model);
        }
    }

    [Fact]
    public async Task A_push_broken_by_a_restart_resumes_and_leaves_each_row_once()
    {
        await using var pg = await PrivatePostgres.StartAsync("shared_buffers=64MB");
        await using var source = PgGallery.CreateDataSource(pg.ConnectionString);
        const string table = "pushed";
        var options = new PgPushOptions { Table = table, ChunkRows = 500 };
        // Restart the server after the second of six chunks, while the push holds its connection.
        var restart = new BlockingProgress(p => p.Stage == "load" && p.RowsDone == 1000, () =>
        {
            pg.StopAsync("fast").GetAwaiter().GetResult();
            pg.StartAgainAsync().GetAwaiter().GetResult();
        });
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => PgGalleryPush.PushAsync(source, data.Train, options, restart, Ct));
        Assert.True(restart.Fired);

        var report = await PgGalleryPush.PushAsync(source, data.Train, options, cancellationToken: Ct);
        Assert.Equal(2, report.ChunksSkipped);
        Assert.Equal(4, report.ChunksLoaded);
        Assert.Equal(data.Train.Rows - 1000, report.RowsAdded);
        await using var conn = await source.OpenConnectionAsync(Ct);
        await using var cmd = new NpgsqlCommand($"SELECT count(*), count(DISTINCT img_id), min(row_no), max(row_no) FROM {table}", conn);
        await using var reader = await cmd.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal(data.Train.Rows, reader.GetInt64(0));
        Assert.Equal(data.Train.Rows, reader.GetInt64(1));
        Assert.Equal(0, reader.GetInt64(2));
        Assert.Equal(data.Train.Rows - 1, reader.GetInt64(3));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the load loop");
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>Runs an action once, inside the push's progress report (so the push waits for it).</summary>
    private sealed class BlockingProgress(Func<PgPushProgress, bool> when, Action action) : IProgress<PgPushProgress>
    {
        public bool Fired { get; private set; }

        public void Report(PgPushProgress value)
        {
            if (Fired || !when(value)) return;
            Fired = true;
            action();
        }
    }
}

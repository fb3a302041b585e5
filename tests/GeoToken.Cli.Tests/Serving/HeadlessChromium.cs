using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GeoToken.Cli.Tests.Serving;

/// <summary>
/// A real headless Chromium (Debian's <c>/usr/bin/chromium</c>, installed by <c>eng/setup.sh --test-deps</c>) driven
/// over the Chrome DevTools Protocol on a loopback WebSocket. Its profile lives in a temporary folder; disposing kills
/// the process (and its children) and deletes the folder, whatever happened before.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    /// <summary>The browser the tests use.</summary>
    public const string Executable = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentQueue<(string Method, string? Session, JsonElement Params)> _events = new();
    private readonly StringBuilder _stderr = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _receiving;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Every protocol event received so far (method, session, parameters), in order.</summary>
    public IReadOnlyList<(string Method, string? Session, JsonElement Params)> Events => [.. _events];

    /// <summary>Starts the browser with a fresh profile and connects to it; fails (never skips) when Chromium is missing.</summary>
    public static async Task<HeadlessChromium> StartAsync(CancellationToken ct)
    {
        if (!File.Exists(Executable))
        {
            throw new FileNotFoundException($"{Executable} is missing: the page test drives a real headless Chromium; install it with eng/setup.sh --test-deps.", Executable);
        }

        string profile = Directory.CreateTempSubdirectory("geotoken-chromium-").FullName;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", $"--user-data-dir={profile}", "--no-sandbox",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--disable-default-apps", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
            "--window-size=1200,900", "about:blank",
        })
        {
            start.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{Executable} did not start.");
        }
        catch
        {
            Directory.Delete(profile, recursive: true);
            throw;
        }

        var browser = new HeadlessChromium(process, profile);
        try
        {
            var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    listening.TrySetException(new InvalidOperationException($"{Executable} closed its error stream before it listened for DevTools: {browser.Stderr}"));
                    return;
                }

                lock (browser._stderr) browser._stderr.AppendLine(e.Data);
                const string prefix = "DevTools listening on ";
                if (e.Data.StartsWith(prefix, StringComparison.Ordinal)) listening.TrySetResult(new Uri(e.Data[prefix.Length..].Trim()));
            };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            var address = await listening.Task.WaitAsync(ct);
            if (!address.IsLoopback) throw new InvalidOperationException($"Chromium's DevTools listen on {address}, not on loopback.");
            await browser._socket.ConnectAsync(address, ct);
            browser._receiving = Task.Run(browser.ReceiveAsync, CancellationToken.None);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>What Chromium wrote to standard error (for failure messages).</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Opens a new tab at about:blank and attaches to it; returns the session id to send page commands to.</summary>
    public async Task<string> OpenPageAsync(CancellationToken ct)
    {
        var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, null, ct);
        var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target.GetProperty("targetId").GetString(), ["flatten"] = true }, null, ct);
        return attached.GetProperty("sessionId").GetString()!;
    }

    /// <summary>Navigates a page and waits for that navigation's load event (the page's deferred scripts have run).</summary>
    public async Task NavigateAsync(string session, Uri url, CancellationToken ct)
    {
        int before = _events.Count;
        var r = await SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() }, session, ct);
        if (r.TryGetProperty("errorText", out var error)) throw new InvalidOperationException($"Navigating to {url} failed: {error.GetString()}");
        await WaitForEventAsync("Page.loadEventFired", session, before, ct);

        // The load event may still have been about:blank's; the page is loaded once its document says so.
        string expression = $"location.href === {JsonSerializer.Serialize(url.ToString())} && document.readyState === 'complete'";
        while (true)
        {
            try
            {
                if ((await EvaluateAsync(session, expression, ct)).GetBoolean()) return;
            }
            catch (InvalidOperationException) when (!ct.IsCancellationRequested)
            {
                // The old document's context went away mid-evaluation: ask the new one.
            }

            await Task.Delay(20, ct);
        }
    }

    /// <summary>Sends a command (to the browser, or to a page's session) and returns its result; a protocol error throws.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters, string? session, CancellationToken ct)
    {
        int id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (session is not null) message["sessionId"] = session;
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct);
        return await answer.Task.WaitAsync(ct);
    }

    /// <summary>Evaluates a JavaScript expression in the page (promises awaited) and returns its value; a thrown exception throws.</summary>
    public async Task<JsonElement> EvaluateAsync(string session, string expression, CancellationToken ct)
    {
        var r = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true }, session, ct);
        if (r.TryGetProperty("exceptionDetails", out var error)) throw new InvalidOperationException($"The page threw evaluating {expression}: {error}");
        return r.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>Waits until an event of <paramref name="method"/> for <paramref name="session"/> arrives after the first <paramref name="after"/> events.</summary>
    private async Task<JsonElement> WaitForEventAsync(string method, string session, int after, CancellationToken ct)
    {
        while (true)
        {
            foreach (var e in _events.Skip(after))
            {
                if (e.Method == method && e.Session == session) return e.Params;
            }

            if (_receiving is { IsCompleted: true }) throw new InvalidOperationException($"The DevTools connection closed before {method} arrived. Chromium said: {Stderr}");
            await Task.Delay(20, ct);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                using var doc = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                var root = doc.RootElement;
                if (root.TryGetProperty("id", out var id))
                {
                    if (!_pending.TryRemove(id.GetInt32(), out var answer)) continue;
                    if (root.TryGetProperty("error", out var error)) answer.TrySetException(new InvalidOperationException($"DevTools error: {error}"));
                    else answer.TrySetResult(root.GetProperty("result").Clone());
                }
                else if (root.TryGetProperty("method", out var method))
                {
                    string? session = root.TryGetProperty("sessionId", out var s) ? s.GetString() : null;
                    _events.Enqueue((method.GetString()!, session, root.TryGetProperty("params", out var p) ? p.Clone() : default));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            foreach (var answer in _pending.Values) answer.TrySetException(new InvalidOperationException($"The DevTools connection closed. Chromium said: {Stderr}"));
        }
    }

    /// <summary>Kills Chromium (with its helper processes) and deletes its profile folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        _socket.Dispose();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
        }

        if (_receiving is not null) await _receiving;
        _stop.Dispose();

        // Chromium's helpers may still release files for a moment after the kill.
        for (int attempt = 0; Directory.Exists(_profile); attempt++)
        {
            try
            {
                Directory.Delete(_profile, recursive: true);
            }
            catch (IOException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}

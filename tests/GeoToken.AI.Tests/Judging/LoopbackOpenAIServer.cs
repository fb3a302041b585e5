using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace GeoToken.AI.Tests.Judging;

/// <summary>
/// A minimal OpenAI-compatible chat-completions endpoint on 127.0.0.1, answering from a script of
/// (status, assistant text) pairs and keeping every request body, so tests can drive the real
/// OpenAI client library over real HTTP.
/// </summary>
internal sealed class LoopbackOpenAIServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Queue<(int Status, string Content)> _script;
    private readonly Task _loop;

    public LoopbackOpenAIServer(params (int Status, string Content)[] script)
    {
        _script = new Queue<(int, string)>(script);
        int port = FreePort();
        BaseUri = new Uri($"http://127.0.0.1:{port}/v1/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUri { get; }

    public List<(string Path, JsonElement Body)> Requests { get; } = [];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
            string body = await reader.ReadToEndAsync();
            lock (Requests) Requests.Add((ctx.Request.Url!.AbsolutePath, JsonDocument.Parse(body).RootElement.Clone()));
            var (status, content) = _script.Count > 0 ? _script.Dequeue() : (500, "script exhausted");
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            string json = status == 200
                ? JsonSerializer.Serialize(new
                {
                    id = "chatcmpl-test",
                    @object = "chat.completion",
                    created = 1_700_000_000,
                    model = "loopback-judge",
                    choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                    usage = new { prompt_tokens = 10, completion_tokens = 5, total_tokens = 15 },
                })
                : JsonSerializer.Serialize(new { error = new { message = content, type = "server_error" } });
            var bytes = Encoding.UTF8.GetBytes(json);
            await ctx.Response.OutputStream.WriteAsync(bytes);
            ctx.Response.Close();
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

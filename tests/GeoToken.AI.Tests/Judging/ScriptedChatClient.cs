using Microsoft.Extensions.AI;

namespace GeoToken.AI.Tests.Judging;

/// <summary>An IChatClient that replies from a script and records what it was asked.</summary>
internal sealed class ScriptedChatClient(params Func<CancellationToken, Task<string>>[] script) : IChatClient
{
    private int _next;

    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = [];

    public static ScriptedChatClient Replies(params string[] replies) =>
        new(replies.Select(r => (Func<CancellationToken, Task<string>>)(_ => Task.FromResult(r))).ToArray());

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls.Add((messages.ToList(), options));
        if (_next >= script.Length) throw new InvalidOperationException("script exhausted");
        string text = await script[_next++](cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

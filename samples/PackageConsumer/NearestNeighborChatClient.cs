using System.Globalization;
using System.Text.RegularExpressions;
using GeoToken.Geometry;
using Microsoft.Extensions.AI;

/// <summary>
/// The application's own chat client (a stand-in for OpenAI, Ollama, …): it reads the judge's prompt, picks the numbered
/// candidate nearest to the most similar gallery photo and answers in the judge's JSON. Or, made with a fixed reply, it
/// answers that text whatever it is asked.
/// </summary>
internal sealed partial class NearestNeighborChatClient(string? fixedReply = null) : IChatClient
{
    /// <summary>Per call: the candidate chosen (its number and position as the prompt printed them), or null for a fixed reply.</summary>
    public List<(int Number, LatLng Position)?> Choices { get; } = [];

    /// <summary>Per call: whether an image was attached.</summary>
    public List<bool> SawImage { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        SawImage.Add(list.SelectMany(m => m.Contents).OfType<DataContent>().Any());
        if (fixedReply is not null)
        {
            Choices.Add(null);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, fixedReply)));
        }

        string prompt = string.Join("\n", list.Select(m => m.Text));
        var neighbor = NeighborLine().Match(prompt);
        if (!neighbor.Success) throw new InvalidOperationException("The prompt lists no similar gallery photo.");
        var anchor = new LatLng(Number(neighbor.Groups[1]), Number(neighbor.Groups[2]));
        (int Number, LatLng Position)? best = null;
        foreach (Match c in CandidateLine().Matches(prompt))
        {
            var position = new LatLng(Number(c.Groups[2]), Number(c.Groups[3]));
            if (best is null || Geodesy.HaversineKm(position, anchor) < Geodesy.HaversineKm(best.Value.Position, anchor))
            {
                best = (int.Parse(c.Groups[1].Value, CultureInfo.InvariantCulture), position);
            }
        }

        if (best is null) throw new InvalidOperationException("The prompt lists no candidate.");
        Choices.Add(best);
        string reply = string.Create(CultureInfo.InvariantCulture, $$"""{"choice": {{best.Value.Number}}, "latitude": null, "longitude": null, "reason": "nearest to the most similar gallery photo"}""");
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, reply)));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The judge does not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    private static double Number(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture);

    // "- (43.4700, 11.8800), similarity 0.912" under "The most similar images … were taken at:" (the first is the most similar).
    [GeneratedRegex(@"^- \((-?[0-9.]+), (-?[0-9.]+)\), similarity", RegexOptions.Multiline)]
    private static partial Regex NeighborLine();

    // "3. (48.8584, 2.2945), generated 2 of 9 times, model log-probability -4.21"
    [GeneratedRegex(@"^([0-9]+)\. \((-?[0-9.]+), (-?[0-9.]+)\)", RegexOptions.Multiline)]
    private static partial Regex CandidateLine();
}

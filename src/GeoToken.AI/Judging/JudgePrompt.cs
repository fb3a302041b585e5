using System.Globalization;
using System.Text;
using System.Text.Json;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Reranking;
using Microsoft.Extensions.AI;

namespace GeoToken.AI.Judging;

/// <summary>Builds the judge's messages and response schema for each <see cref="MllmJudgeMode"/>.</summary>
internal static class JudgePrompt
{
    private const string System =
        "You are an expert in image geolocation (like a top GeoGuessr player). You reason about climate, " +
        "vegetation, architecture, road markings, signs, language and landmarks, and about where similar " +
        "photos were taken. Answer with one JSON object only.";

    public static List<ChatMessage> Build(MllmJudgeOptions o, RerankQuery query, IReadOnlyList<GeoCandidate> shown)
    {
        if (o.PromptStyle == MllmPromptStyle.Reference) return BuildReference(o, query, shown);
        var text = new StringBuilder();
        bool image = o.IncludeImage && query.Image is not null;
        text.AppendLine(image
            ? "Where was the attached photo taken?"
            : "Where was the photo taken? (The photo itself is not available; decide from the evidence below.)");
        var similar = query.Neighbors.Take(o.SimilarNeighbors).ToArray();
        switch (o.Mode)
        {
            case MllmJudgeMode.PoolSelection:
                AppendNeighbors(text, "The most similar images in a geotagged gallery were taken at", similar);
                AppendCandidates(text, "A geolocation model proposes these candidates", shown);
                text.AppendLine("Choose the number of the most likely candidate. If none is plausible, set choice to null and give your own latitude and longitude.");
                text.AppendLine("""Reply as {"choice": <number or null>, "latitude": <number or null>, "longitude": <number or null>, "reason": "<short>"}.""");
                break;
            case MllmJudgeMode.FreeGeneration:
                AppendNeighbors(text, "The most similar images in a geotagged gallery were taken at", similar);
                AppendCandidates(text, "A geolocation model's candidates (hints; you may answer elsewhere)", shown);
                text.AppendLine("Give your best estimate of the coordinates.");
                text.AppendLine("""Reply as {"latitude": <number>, "longitude": <number>, "reason": "<short>"}.""");
                break;
            case MllmJudgeMode.Rag:
                var dissimilar = query.Neighbors.Reverse().Take(o.DissimilarNeighbors).Where(n => !similar.Contains(n)).ToArray();
                AppendNeighbors(text, "Similar images were taken at", similar);
                AppendNeighbors(text, "Less similar images (probably not the same place) were taken at", dissimilar);
                text.AppendLine("Use them as references and give your best estimate of the coordinates.");
                text.AppendLine("""Reply as {"latitude": <number>, "longitude": <number>, "reason": "<short>"}.""");
                break;
        }

        var user = new ChatMessage(ChatRole.User, [new TextContent(text.ToString())]);
        if (image) user.Contents.Add(new DataContent(query.Image!.Data, query.Image.MediaType));
        return [new ChatMessage(ChatRole.System, System), user];
    }

    /// <summary>
    /// For each number the prompt gives a candidate (1, 2, …), the index in <paramref name="shown"/> of that candidate:
    /// ours numbers the shown candidates; the reference style's pool selection numbers every raw sample.
    /// </summary>
    public static int[] Numbered(MllmJudgeOptions o, IReadOnlyList<GeoCandidate> shown) => o.PromptStyle switch
    {
        MllmPromptStyle.Reference when o.Mode == MllmJudgeMode.PoolSelection => RawSamples(shown),
        MllmPromptStyle.Reference => [],
        _ => [.. Enumerable.Range(0, shown.Count)],
    };

    /// <summary>
    /// The raw samples behind merged candidates, in pool order: candidate <c>i</c> as many times as it was sampled (its
    /// count less its greedy and beam appearances). A pool without samples lists every candidate once.
    /// </summary>
    private static int[] RawSamples(IReadOnlyList<GeoCandidate> shown)
    {
        var raw = new List<int>();
        for (int i = 0; i < shown.Count; i++)
        {
            var c = shown[i];
            if (!c.Sources.HasFlag(CandidateSources.Sample)) continue;
            int draws = c.Count - (c.Sources.HasFlag(CandidateSources.Greedy) ? 1 : 0) - (c.Sources.HasFlag(CandidateSources.Beam) ? 1 : 0);
            for (int d = 0; d < Math.Max(1, draws); d++) raw.Add(i);
        }

        return raw.Count > 0 ? [.. raw] : [.. Enumerable.Range(0, shown.Count)];
    }

    /// <summary>The reference-style prompts (our wording of the reference's structure; see <see cref="MllmPromptStyle.Reference"/>).</summary>
    private static List<ChatMessage> BuildReference(MllmJudgeOptions o, RerankQuery query, IReadOnlyList<GeoCandidate> shown)
    {
        var text = new StringBuilder();
        bool image = o.IncludeImage && query.Image is not null;
        string photo = image ? "the attached photo" : "a photo (not available here; decide from the guesses)";
        if (o.Mode == MllmJudgeMode.PoolSelection)
        {
            var numbered = RawSamples(shown);
            text.AppendLine("You are an expert at telling where photos were taken.");
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Here is {photo} together with {numbered.Length} candidate GPS coordinates:"));
            for (int j = 0; j < numbered.Length; j++)
            {
                var p = shown[numbered[j]].Position;
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{j + 1}) lat={p.Latitude:F5}, lon={p.Longitude:F5}"));
            }

            text.AppendLine("Pick the one coordinate from this list that fits the photo best (its number as choice). If none of them looks right, set choice to null and give your own best estimate.");
            text.AppendLine("""Answer with JSON only, exactly {"choice": <number or null>, "latitude": <number or null>, "longitude": <number or null>, "reason": "<short>"}.""");
        }
        else
        {
            var greedy = shown.FirstOrDefault(c => c.Sources.HasFlag(CandidateSources.Greedy));
            var samples = RawSamples(shown).Select(i => shown[i].Position).ToArray();
            static string Pair(LatLng p) => string.Create(CultureInfo.InvariantCulture, $"[{p.Latitude:F5}, {p.Longitude:F5}]");
            text.AppendLine($"You are an expert geolocation analyst. Your main job is to study {photo} and work out the most accurate coordinates of where it was taken.");
            if (greedy is not null) text.AppendLine($"A model's best guess for where this image was taken is {Pair(greedy.Position)}.");
            if (samples.Length > 0) text.AppendLine($"Its other guesses for this image are [{string.Join(", ", samples.Select(Pair))}].");
            text.AppendLine("You have to give a location; do not answer that it cannot be determined.");
            text.AppendLine("""Answer with JSON only, exactly {"latitude": <number>, "longitude": <number>, "reason": "<short>"}, and nothing else.""");
        }

        var user = new ChatMessage(ChatRole.User, [new TextContent(text.ToString())]);
        if (image) user.Contents.Add(new DataContent(query.Image!.Data, query.Image.MediaType));
        return [user];
    }

    public static ChatResponseFormat Schema(MllmJudgeMode mode)
    {
        string schema = mode == MllmJudgeMode.PoolSelection
            ? """
              {"type":"object","properties":{
                "choice":{"type":["integer","null"],"description":"1-based number of the chosen candidate, or null"},
                "latitude":{"type":["number","null"],"description":"own estimate when choice is null"},
                "longitude":{"type":["number","null"],"description":"own estimate when choice is null"},
                "reason":{"type":"string"}},
               "required":["choice","latitude","longitude","reason"],"additionalProperties":false}
              """
            : """
              {"type":"object","properties":{
                "latitude":{"type":"number","minimum":-90,"maximum":90},
                "longitude":{"type":"number","minimum":-180,"maximum":180},
                "reason":{"type":"string"}},
               "required":["latitude","longitude","reason"],"additionalProperties":false}
              """;
        using var doc = JsonDocument.Parse(schema);
        return ChatResponseFormat.ForJsonSchema(doc.RootElement.Clone(), "geolocation_answer", "The judged location of the photo.");
    }

    private static void AppendNeighbors(StringBuilder text, string title, IReadOnlyList<Neighbor> neighbors)
    {
        if (neighbors.Count == 0) return;
        text.AppendLine(title + ":");
        foreach (var n in neighbors)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- ({n.Position.Latitude:F4}, {n.Position.Longitude:F4}), similarity {n.Similarity:F3}"));
        }
    }

    private static void AppendCandidates(StringBuilder text, string title, IReadOnlyList<GeoCandidate> shown)
    {
        if (shown.Count == 0) return;
        int total = shown.Sum(c => c.Count);
        text.AppendLine(title + ":");
        for (int i = 0; i < shown.Count; i++)
        {
            var c = shown[i];
            var line = string.Create(CultureInfo.InvariantCulture, $"{i + 1}. ({c.Position.Latitude:F4}, {c.Position.Longitude:F4})");
            if (total > shown.Count) line += string.Create(CultureInfo.InvariantCulture, $", generated {c.Count} of {total} times");
            if (!double.IsNaN(c.LogProbability)) line += string.Create(CultureInfo.InvariantCulture, $", model log-probability {c.LogProbability:F2}");
            text.AppendLine(line);
        }
    }
}

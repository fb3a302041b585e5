using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GeoToken.Geometry;

namespace GeoToken.AI.Judging;

/// <summary>
/// Reads a judge's reply robustly: JSON anywhere in the text (prose or code fences around it are
/// fine), numbers as JSON numbers or strings (with N/S/E/W suffixes), alternative key names, and a
/// last-resort "latitude: x, longitude: y" pattern. Out-of-range values, an out-of-range choice and
/// the (0, 0) non-answer are rejected with a reason.
/// </summary>
public static partial class JudgeAnswerParser
{
    /// <summary>Parses <paramref name="text"/>; returns null and a reason when it holds no usable answer.</summary>
    /// <param name="text">The model's reply.</param>
    /// <param name="candidateCount">How many numbered candidates were shown (0 when choices are not allowed).</param>
    /// <param name="reason">Why the answer was rejected.</param>
    public static JudgeAnswer? TryParse(string? text, int candidateCount, out string reason)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            reason = "the reply is empty";
            return null;
        }

        string? jsonProblem = null;
        foreach (var obj in JsonObjects(text))
        {
            var answer = FromJson(obj, candidateCount, out jsonProblem);
            if (answer is not null)
            {
                reason = string.Empty;
                return answer;
            }

            if (jsonProblem is not null && jsonProblem.StartsWith("rejected", StringComparison.Ordinal)) break;
        }

        if (jsonProblem is not null && jsonProblem.StartsWith("rejected", StringComparison.Ordinal))
        {
            reason = jsonProblem;
            return null;
        }

        // Prose: "latitude: -33.86, longitude: 151.21" or "(-33.86, 151.21)".
        var m = ProsePattern().Match(text);
        if (m.Success)
        {
            double lat = double.Parse(m.Groups["lat"].Value, CultureInfo.InvariantCulture);
            double lon = double.Parse(m.Groups["lon"].Value, CultureInfo.InvariantCulture);
            return Checked(null, lat, lon, null, out reason);
        }

        reason = jsonProblem ?? "no JSON object or coordinates found in the reply";
        return null;
    }

    private static JudgeAnswer? FromJson(JsonElement obj, int candidateCount, out string? problem)
    {
        problem = null;
        string? why = Get(obj, "reason", "reasoning", "explanation") is { ValueKind: JsonValueKind.String } r ? r.GetString() : null;
        var choiceEl = Get(obj, "choice", "candidate", "index", "number", "selected");
        int? choice = null;
        if (choiceEl is { } c && c.ValueKind != JsonValueKind.Null)
        {
            if (ReadNumber(c) is not { } n || n != Math.Floor(n))
            {
                problem = $"rejected: choice {c.GetRawText()} is not a candidate number";
                return null;
            }

            if (n < 1 || n > candidateCount)
            {
                problem = candidateCount == 0
                    ? $"rejected: choice {n} given but no candidates were numbered"
                    : $"rejected: choice {n} is outside 1..{candidateCount}";
                return null;
            }

            choice = (int)n;
        }

        var latEl = Get(obj, "latitude", "lat");
        var lonEl = Get(obj, "longitude", "lon", "lng", "long");
        bool hasLat = latEl is { ValueKind: not JsonValueKind.Null }, hasLon = lonEl is { ValueKind: not JsonValueKind.Null };
        if (choice is not null) return new JudgeAnswer(choice, null, why);
        if (!hasLat || !hasLon)
        {
            problem = "the JSON has neither a candidate choice nor both latitude and longitude";
            return null;
        }

        if (ReadNumber(latEl!.Value) is not { } lat || ReadNumber(lonEl!.Value) is not { } lon)
        {
            problem = $"rejected: coordinates {latEl!.Value.GetRawText()}, {lonEl!.Value.GetRawText()} are not numbers";
            return null;
        }

        var a = Checked(null, lat, lon, why, out string reason);
        if (a is null) problem = reason;
        return a;
    }

    private static JudgeAnswer? Checked(int? choice, double lat, double lon, string? why, out string reason)
    {
        if (!double.IsFinite(lat) || lat is < -90 or > 90 || !double.IsFinite(lon) || lon is < -180 or > 180)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"rejected: ({lat}, {lon}) is outside latitude [-90, 90] / longitude [-180, 180]");
            return null;
        }

        if (lat == 0 && lon == 0)
        {
            reason = "rejected: (0, 0) is treated as a non-answer";
            return null;
        }

        reason = string.Empty;
        return new JudgeAnswer(choice, new LatLng(lat, lon), why);
    }

    private static JsonElement? Get(JsonElement obj, params string[] names)
    {
        foreach (var p in obj.EnumerateObject())
        {
            foreach (var n in names)
            {
                if (string.Equals(p.Name, n, StringComparison.OrdinalIgnoreCase)) return p.Value;
            }
        }

        return null;
    }

    private static double? ReadNumber(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        if (e.ValueKind != JsonValueKind.String) return null;
        var m = NumberWithHemisphere().Match(e.GetString()!);
        if (!m.Success) return null;
        double v = double.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture);
        string h = m.Groups["h"].Value.ToUpperInvariant();
        return h is "S" or "W" ? -Math.Abs(v) : v;
    }

    /// <summary>Every balanced {...} in the text that parses as a JSON object, outermost first.</summary>
    private static IEnumerable<JsonElement> JsonObjects(string text)
    {
        for (int start = text.IndexOf('{'); start >= 0; start = text.IndexOf('{', start + 1))
        {
            int end = MatchingBrace(text, start);
            if (end < 0) continue;
            JsonElement? parsed = null;
            try
            {
                using var doc = JsonDocument.Parse(text.AsMemory(start, end - start + 1), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                if (doc.RootElement.ValueKind == JsonValueKind.Object) parsed = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
            }

            if (parsed is { } p)
            {
                yield return p;
                start = end;
            }
        }
    }

    private static int MatchingBrace(string s, int open)
    {
        int depth = 0;
        bool inString = false;
        for (int i = open; i < s.Length; i++)
        {
            char c = s[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }

            if (c == '"') inString = true;
            else if (c == '{') depth++;
            else if (c == '}' && --depth == 0) return i;
        }

        return -1;
    }

    [GeneratedRegex(@"^\s*(?<v>[+-]?\d+(\.\d+)?)\s*°?\s*(?<h>[NSEWnsew])?\s*$")]
    private static partial Regex NumberWithHemisphere();

    [GeneratedRegex(@"lat(itude)?[""']?\s*[:=]\s*(?<lat>[+-]?\d+(\.\d+)?).{0,40}?(lon|lng|long|longitude)[""']?\s*[:=]\s*(?<lon>[+-]?\d+(\.\d+)?)|\(\s*(?<lat>[+-]?\d+\.\d+)\s*,\s*(?<lon>[+-]?\d+\.\d+)\s*\)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ProsePattern();
}

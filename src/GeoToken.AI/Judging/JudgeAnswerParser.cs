using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GeoToken.Geometry;

namespace GeoToken.AI.Judging;

/// <summary>
/// Reads a judge's reply as a structured answer only: the reply must be one JSON object (optionally in
/// a single code fence) with the prompt's schema's fields, <c>choice</c>, <c>latitude</c>,
/// <c>longitude</c> and <c>reason</c>, and no others. Prose is never read as an answer, however much it
/// looks like coordinates. A choice must be an integer naming a shown candidate; coordinates must be
/// numbers (or numeric strings whose hemisphere letter belongs to their axis: N/S for latitude, E/W for
/// longitude), in range, and farther than <see cref="NullIslandRadiusKm"/> from (0, 0), the usual
/// non-answer. A choice with coordinates elsewhere is a contradiction. Every rejection comes with its
/// reason, which the reranker records before it falls back.
/// </summary>
public static partial class JudgeAnswerParser
{
    /// <summary>Coordinates this close to (0, 0) (open ocean in the Gulf of Guinea) are taken as a non-answer.</summary>
    public const double NullIslandRadiusKm = 50;

    /// <summary>How far coordinates given with a choice may be from the chosen candidate (the prompt shows 4 decimals).</summary>
    public const double ChoiceAgreementKm = 1;

    private static readonly string[] Fields = ["choice", "latitude", "longitude", "reason"];

    /// <summary>Parses <paramref name="text"/> against the numbered <paramref name="candidates"/> shown to the judge.</summary>
    /// <param name="text">The model's reply.</param>
    /// <param name="candidates">The positions of the numbered candidates, in the order shown (empty when choices are not allowed).</param>
    /// <param name="reason">Why the answer was rejected; empty when it was accepted.</param>
    /// <returns>The answer, or null when the reply holds no usable structured answer.</returns>
    public static JudgeAnswer? TryParse(string? text, IReadOnlyList<LatLng> candidates, out string reason)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        return Parse(text, candidates.Count, candidates, out reason);
    }

    /// <summary>
    /// Parses <paramref name="text"/> when only the number of candidates is known: a choice that comes
    /// with coordinates cannot be checked against its candidate and is rejected as a contradiction.
    /// </summary>
    /// <param name="text">The model's reply.</param>
    /// <param name="candidateCount">How many numbered candidates were shown (0 when choices are not allowed).</param>
    /// <param name="reason">Why the answer was rejected; empty when it was accepted.</param>
    public static JudgeAnswer? TryParse(string? text, int candidateCount, out string reason) =>
        Parse(text, candidateCount, null, out reason);

    private static JudgeAnswer? Parse(string? text, int candidateCount, IReadOnlyList<LatLng>? positions, out string reason)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            reason = "the reply is empty";
            return null;
        }

        if (!TryReadObject(text, out var obj))
        {
            reason = "rejected: the reply is not one JSON object (prose is not read as an answer)";
            return null;
        }

        using (obj)
        {
            var root = obj.RootElement;
            foreach (var p in root.EnumerateObject())
            {
                if (!Fields.Contains(p.Name, StringComparer.Ordinal))
                {
                    reason = $"rejected: field '{p.Name}' is not in the answer schema ({string.Join(", ", Fields)})";
                    return null;
                }
            }

            string? why = null;
            if (Field(root, "reason") is { } r)
            {
                if (r.ValueKind != JsonValueKind.String)
                {
                    reason = $"rejected: reason {r.GetRawText()} is not a string";
                    return null;
                }

                why = r.GetString();
            }

            int? choice = null;
            if (Field(root, "choice") is { } c)
            {
                if (c.ValueKind != JsonValueKind.Number || !c.TryGetInt32(out int n))
                {
                    reason = $"rejected: choice {c.GetRawText()} is not an integer candidate number";
                    return null;
                }

                if (n < 1 || n > candidateCount)
                {
                    reason = candidateCount == 0
                        ? $"rejected: choice {n} given but no candidates were numbered"
                        : $"rejected: choice {n} is outside 1..{candidateCount}";
                    return null;
                }

                choice = n;
            }

            var latEl = Field(root, "latitude");
            var lonEl = Field(root, "longitude");
            if (latEl is null && lonEl is null)
            {
                if (choice is null)
                {
                    reason = "rejected: the answer has neither a candidate choice nor coordinates (a refusal)";
                    return null;
                }

                reason = string.Empty;
                return new JudgeAnswer(choice, null, why);
            }

            if (latEl is null || lonEl is null)
            {
                reason = $"rejected: the answer gives {(latEl is null ? "longitude" : "latitude")} without {(latEl is null ? "latitude" : "longitude")}";
                return null;
            }

            if (Coordinate(latEl.Value, "latitude", 'N', 'S', 90, out reason) is not { } lat
                || Coordinate(lonEl.Value, "longitude", 'E', 'W', 180, out reason) is not { } lon)
            {
                return null;
            }

            var position = new LatLng(lat, lon);
            double fromNullIsland = Geodesy.HaversineKm(position, new LatLng(0, 0));
            if (fromNullIsland < NullIslandRadiusKm)
            {
                reason = string.Create(CultureInfo.InvariantCulture,
                    $"rejected: ({lat}, {lon}) is {fromNullIsland:0.#} km from (0, 0), within {NullIslandRadiusKm} km: taken as a non-answer");
                return null;
            }

            if (choice is { } k)
            {
                if (positions is null)
                {
                    reason = $"rejected: the answer chooses candidate {k} and also gives coordinates (a contradiction that cannot be checked)";
                    return null;
                }

                double apart = Geodesy.HaversineKm(position, positions[k - 1]);
                if (apart > ChoiceAgreementKm)
                {
                    reason = string.Create(CultureInfo.InvariantCulture,
                        $"rejected: the answer chooses candidate {k} but gives coordinates ({lat}, {lon}) {apart:0.#} km away from it (a contradiction)");
                    return null;
                }

                reason = string.Empty;
                return new JudgeAnswer(k, null, why);
            }

            reason = string.Empty;
            return new JudgeAnswer(null, position, why);
        }
    }

    /// <summary>The field's value, or null when it is absent or JSON null.</summary>
    private static JsonElement? Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A coordinate: a JSON number, or a numeric string with an optional hemisphere letter of this axis.</summary>
    private static double? Coordinate(JsonElement e, string axis, char positive, char negative, double limit, out string reason)
    {
        double value;
        if (e.ValueKind == JsonValueKind.Number)
        {
            value = e.GetDouble();
        }
        else if (e.ValueKind == JsonValueKind.String && NumberWithHemisphere().Match(e.GetString()!) is { Success: true } m)
        {
            value = double.Parse(m.Groups["v"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (m.Groups["h"].Success)
            {
                char h = char.ToUpperInvariant(m.Groups["h"].Value[0]);
                if (h != positive && h != negative)
                {
                    reason = $"rejected: {axis} {e.GetRawText()} has a hemisphere letter of the other axis ({axis} takes {positive} or {negative})";
                    return null;
                }

                if (m.Groups["v"].Value.StartsWith('-'))
                {
                    reason = $"rejected: {axis} {e.GetRawText()} has both a minus sign and a hemisphere letter";
                    return null;
                }

                if (h == negative) value = -value;
            }
        }
        else
        {
            reason = $"rejected: {axis} {e.GetRawText()} is not a number";
            return null;
        }

        if (!double.IsFinite(value) || Math.Abs(value) > limit)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"rejected: {axis} {value} is outside [-{limit}, {limit}]");
            return null;
        }

        reason = string.Empty;
        return value;
    }

    /// <summary>The reply as one JSON object: the whole text, or the whole content of a single code fence.</summary>
    private static bool TryReadObject(string text, out JsonDocument document)
    {
        document = null!;
        string body = text.Trim();
        var fence = CodeFence().Match(body);
        if (fence.Success) body = fence.Groups["body"].Value.Trim();
        if (!body.StartsWith('{')) return false;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException)
        {
            return false;
        }

        if (document.RootElement.ValueKind == JsonValueKind.Object) return true;
        document.Dispose();
        return false;
    }

    [GeneratedRegex(@"^\s*(?<v>[+-]?\d+(\.\d+)?([eE][+-]?\d+)?)\s*°?\s*(?<h>[A-Za-z])?\s*$")]
    private static partial Regex NumberWithHemisphere();

    [GeneratedRegex(@"^```[A-Za-z]*\s*\n(?<body>.*)\n\s*```$", RegexOptions.Singleline)]
    private static partial Regex CodeFence();
}

using CsCheck;
using GeoToken.AI.Judging;
using GeoToken.Geometry;

namespace GeoToken.AI.Tests.Judging;

public sealed class JudgeAnswerParserTests
{
    private static readonly LatLng[] Three = [new(48.8566, 2.3522), new(45.1234, 7.5678), new(43.7696, 11.2558)];

    [Theory]
    [InlineData("""{"choice": 2, "latitude": null, "longitude": null, "reason": "Haussmann facades"}""", 2)]
    [InlineData("```json\n{\"choice\": 1, \"reason\": \"x\"}\n```", 1)]
    [InlineData("""{"choice": 3, "latitude": 43.7696, "longitude": 11.2558, "reason": "the candidate's own position"}""", 3)]
    public void Reads_choices(string reply, int expected)
    {
        var a = JudgeAnswerParser.TryParse(reply, Three, out string reason);
        Assert.True(a is not null, reason);
        Assert.Equal(expected, a.Choice);
        Assert.Null(a.Position);
    }

    [Theory]
    [InlineData("""{"choice": null, "latitude": -33.8688, "longitude": 151.2093, "reason": "Opera house"}""", -33.8688, 151.2093)]
    [InlineData("""{"latitude": "-22.9068", "longitude": "-43.1729"}""", -22.9068, -43.1729)]
    [InlineData("""{"latitude": "33.9 S", "longitude": "18.4 E"}""", -33.9, 18.4)]
    [InlineData("""{"latitude": "10 N", "longitude": "45 W"}""", 10, -45)]
    [InlineData("""{"latitude": 64.1466, "longitude": -21.9426,}""", 64.1466, -21.9426)]
    [InlineData("""{"latitude": 0.5, "longitude": 0}""", 0.5, 0)] // 56 km from (0, 0): kept
    public void Reads_coordinates_including_negative_and_string_numbers(string reply, double lat, double lon)
    {
        var a = JudgeAnswerParser.TryParse(reply, 0, out string reason);
        Assert.True(a is not null, reason);
        Assert.Equal(lat, a.Position!.Value.Latitude, 9);
        Assert.Equal(lon, a.Position!.Value.Longitude, 9);
    }

    [Theory]
    [InlineData("""{"latitude": 95.2, "longitude": 10}""", "latitude 95.2 is outside")]
    [InlineData("""{"latitude": 10, "longitude": -190}""", "longitude -190 is outside")]
    [InlineData("""{"latitude": 0, "longitude": 0}""", "from (0, 0)")]
    [InlineData("""{"latitude": 1e-9, "longitude": 0}""", "from (0, 0)")]
    [InlineData("""{"latitude": 0.3, "longitude": -0.2}""", "from (0, 0)")]
    [InlineData("""{"latitude": "10 E", "longitude": 20}""", "hemisphere letter of the other axis")]
    [InlineData("""{"latitude": 10, "longitude": "45 N"}""", "hemisphere letter of the other axis")]
    [InlineData("""{"latitude": "-10 S", "longitude": 20}""", "both a minus sign and a hemisphere letter")]
    [InlineData("""{"latitude": "north-ish", "longitude": 3}""", "is not a number")]
    [InlineData("""{"latitude": 48.85}""", "latitude without longitude")]
    [InlineData("""{"reason": "I cannot tell"}""", "neither a candidate choice nor coordinates")]
    [InlineData("""{"lat": 48.85, "lng": 2.35}""", "field 'lat' is not in the answer schema")]
    [InlineData("The photo is NOT at latitude: 48.85, longitude: 2.35.", "not one JSON object")]
    [InlineData("""Candidate 1 (45.1234, 7.5678) is wrong; I choose candidate 3.""", "not one JSON object")]
    [InlineData("""I think it is Rio. {"latitude": -22.9, "longitude": -43.2} is my guess""", "not one JSON object")]
    [InlineData("""{"latitude": 1, "longitude": 2} {"latitude": 3, "longitude": 4}""", "not one JSON object")]
    [InlineData("""[48.85, 2.35]""", "not one JSON object")]
    [InlineData("I am not sure where this is.", "not one JSON object")]
    [InlineData("", "empty")]
    public void Rejects_unusable_coordinate_answers_with_a_reason(string reply, string expected)
    {
        Assert.Null(JudgeAnswerParser.TryParse(reply, 0, out string reason));
        Assert.Contains(expected, reason);
    }

    [Theory]
    [InlineData("""{"choice": 4}""", "choice 4 is outside 1..3")]
    [InlineData("""{"choice": 0}""", "choice 0 is outside 1..3")]
    [InlineData("""{"choice": 1.5}""", "not an integer candidate number")]
    [InlineData("""{"choice": "3"}""", "not an integer candidate number")]
    [InlineData("""{"choice": 1, "latitude": 43.7696, "longitude": 11.2558}""", "chooses candidate 1 but gives coordinates")]
    [InlineData("""{"choice": 2, "reason": 5}""", "reason 5 is not a string")]
    public void Rejects_unusable_choices_with_a_reason(string reply, string expected)
    {
        Assert.Null(JudgeAnswerParser.TryParse(reply, Three, out string reason));
        Assert.Contains(expected, reason);
    }

    [Fact]
    public void A_choice_with_coordinates_is_a_contradiction_when_the_candidates_are_unknown()
    {
        Assert.Null(JudgeAnswerParser.TryParse("""{"choice": 1, "latitude": 48.8566, "longitude": 2.3522}""", 3, out string reason));
        Assert.Contains("cannot be checked", reason);
        Assert.Null(JudgeAnswerParser.TryParse("""{"choice": 1}""", 0, out reason));
        Assert.Contains("no candidates were numbered", reason);
    }

    [Fact]
    public void Any_reply_is_an_in_range_answer_away_from_null_island_or_a_rejection_with_a_reason()
    {
        var replies = Gen.OneOf(
            Gen.String,
            Gen.Select(Gen.Double, Gen.Double, Gen.Int[-2, 5], Gen.Bool,
                (lat, lon, choice, withChoice) => withChoice
                    ? $$"""{"choice": {{choice}}, "latitude": {{lat.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}, "longitude": {{lon.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}}"""
                    : $$"""{"latitude": {{lat.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}, "longitude": {{lon.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}}"""));
        replies.Sample(reply =>
        {
            var a = JudgeAnswerParser.TryParse(reply, Three, out string reason);
            if (a is null)
            {
                Assert.False(string.IsNullOrEmpty(reason));
                return;
            }

            Assert.Empty(reason);
            if (a.Choice is { } k)
            {
                Assert.InRange(k, 1, Three.Length);
                return;
            }

            var p = a.Position!.Value;
            Assert.InRange(p.Latitude, -90, 90);
            Assert.InRange(p.Longitude, -180, 180);
            Assert.True(Geodesy.HaversineKm(p, new LatLng(0, 0)) >= JudgeAnswerParser.NullIslandRadiusKm);
        }, iter: 2000);
    }
}

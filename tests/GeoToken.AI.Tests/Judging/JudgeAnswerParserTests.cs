using GeoToken.AI.Judging;

namespace GeoToken.AI.Tests.Judging;

public sealed class JudgeAnswerParserTests
{
    [Theory]
    [InlineData("""{"choice": 2, "latitude": null, "longitude": null, "reason": "Haussmann facades"}""", 2)]
    [InlineData("""Sure! Here is my answer: ```json\n{"choice": 1, "reason": "x"}\n``` Hope it helps.""", 1)]
    [InlineData("""{"candidate": "3"}""", 3)]
    public void Reads_choices(string reply, int expected)
    {
        var a = JudgeAnswerParser.TryParse(reply, 3, out string reason);
        Assert.True(a is not null, reason);
        Assert.Equal(expected, a.Choice);
    }

    [Theory]
    [InlineData("""{"choice": null, "latitude": -33.8688, "longitude": 151.2093, "reason": "Opera house"}""", -33.8688, 151.2093)]
    [InlineData("""I think it is Rio. {"latitude": "-22.9068", "longitude": "-43.1729"} is my guess""", -22.9068, -43.1729)]
    [InlineData("""{"lat": "33.9 S", "lng": "18.4 E"}""", -33.9, 18.4)]
    [InlineData("""{"Latitude": 64.1466, "Longitude": -21.9426,}""", 64.1466, -21.9426)]
    [InlineData("The photo was taken at latitude: -34.6037, longitude: -58.3816 in Buenos Aires.", -34.6037, -58.3816)]
    [InlineData("My estimate is (35.6762, 139.6503).", 35.6762, 139.6503)]
    public void Reads_coordinates_including_negative_and_string_numbers(string reply, double lat, double lon)
    {
        var a = JudgeAnswerParser.TryParse(reply, 0, out string reason);
        Assert.True(a is not null, reason);
        Assert.Equal(lat, a.Position!.Value.Latitude, 9);
        Assert.Equal(lon, a.Position!.Value.Longitude, 9);
    }

    [Theory]
    [InlineData("""{"latitude": 95.2, "longitude": 10}""", 0, "outside latitude")]
    [InlineData("""{"latitude": 10, "longitude": -190}""", 0, "outside latitude")]
    [InlineData("""{"latitude": 0, "longitude": 0}""", 0, "(0, 0) is treated as a non-answer")]
    [InlineData("""{"choice": 4}""", 3, "choice 4 is outside 1..3")]
    [InlineData("""{"choice": 0}""", 3, "choice 0 is outside 1..3")]
    [InlineData("""{"choice": 1.5}""", 3, "not a candidate number")]
    [InlineData("""{"choice": 1}""", 0, "no candidates were numbered")]
    [InlineData("""{"latitude": "north-ish", "longitude": 3}""", 0, "are not numbers")]
    [InlineData("""{"reason": "I cannot tell"}""", 3, "neither a candidate choice nor both latitude and longitude")]
    [InlineData("I am not sure where this is.", 3, "no JSON object or coordinates")]
    [InlineData("", 3, "empty")]
    public void Rejects_unusable_answers_with_a_reason(string reply, int candidates, string expected)
    {
        Assert.Null(JudgeAnswerParser.TryParse(reply, candidates, out string reason));
        Assert.Contains(expected, reason);
    }
}

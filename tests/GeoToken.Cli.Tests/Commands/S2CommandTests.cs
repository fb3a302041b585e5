using GeoToken.Geometry;

namespace GeoToken.Cli.Tests.Commands;

public sealed class S2CommandTests
{
    [Fact]
    public async Task One_point_prints_cell_id_and_token()
    {
        var (code, output, _) = await CliRunner.RunAsync("s2", "--lat", "43.4699", "--lon", "11.8806", "--level", "20");
        Assert.Equal(0, code);
        var cell = S2CellId.FromLatLng(43.4699, 11.8806).Parent(20);
        Assert.Contains($"43.4699,11.8806,{cell.Id},{cell.ToToken()}", output);
    }

    [Fact]
    public async Task File_conversion_writes_the_documented_header_and_values()
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.csv"), output = Path.Combine(dir, "out.csv");
        await File.WriteAllTextAsync(input, "name,Latitude,LNG\na,-33.8568,151.2153\nb,90,-180\n", TestContext.Current.CancellationToken);
        var (code, _, _) = await CliRunner.RunAsync("s2", "--input", input, "--output", output, "--level", "12");
        Assert.Equal(0, code);
        var lines = await File.ReadAllLinesAsync(output, TestContext.Current.CancellationToken);
        Assert.Equal("lat,lon,cell_id,token", lines[0]);
        var sydney = S2CellId.FromLatLng(-33.8568, 151.2153).Parent(12);
        Assert.Equal($"-33.8568,151.2153,{sydney.Id},{sydney.ToToken()}", lines[1]);
        Assert.Equal(3, lines.Length);
    }

    [Theory]
    [InlineData("x,91,0", "row 2, column 'lat': latitude 91 is outside [-90, 90]")]
    [InlineData("x,NaN,0", "row 2, column 'lat': 'NaN' is not a finite number")]
    [InlineData("x,10,Infinity", "row 2, column 'lon': 'Infinity' is not a finite number")]
    [InlineData("x,10", "row 2: has 2 fields; the header has 3")]
    public async Task Bad_rows_fail_naming_the_row_and_write_nothing(string badRow, string expected)
    {
        string dir = CliRunner.TempDir();
        string input = Path.Combine(dir, "in.csv"), output = Path.Combine(dir, "out.csv");
        await File.WriteAllTextAsync(input, $"name,lat,lon\nok,1,2\n{badRow}\n", TestContext.Current.CancellationToken);
        var (code, _, error) = await CliRunner.RunAsync("s2", "--input", input, "--output", output);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.False(File.Exists(output));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public async Task Usage_errors_are_explained()
    {
        Assert.Contains("--lat and --lon go together", (await CliRunner.RunAsync("s2", "--lat", "1")).Error);
        Assert.Contains("outside 0..30", (await CliRunner.RunAsync("s2", "--lat", "1", "--lon", "2", "--level", "31")).Error);
        Assert.Contains("Give --input", (await CliRunner.RunAsync("s2")).Error);
    }
}

using GeoToken.IO;

namespace GeoToken.Tests.IO;

public sealed class CsvReaderTests
{
    private static CsvReader Read(string text, int skip = 0) => new(new StringReader(text), "test.csv", skip);

    [Fact]
    public void Reads_plain_and_quoted_fields()
    {
        using var csv = Read("id,name,lat\n1,plain,1.5\n2,\"with, comma and \"\"quote\"\"\",-2\n3,\"multi\nline\",3\n");
        Assert.Equal(["id", "name", "lat"], csv.Header);
        Assert.True(csv.Read());
        Assert.Equal("plain", csv.GetString(1));
        Assert.Equal(1.5, csv.GetDouble(2));
        Assert.True(csv.Read());
        Assert.Equal("with, comma and \"quote\"", csv.GetString(1));
        Assert.Equal(-2, csv.GetDouble(2));
        Assert.True(csv.Read());
        Assert.Equal("multi\nline", csv.GetString(1));
        Assert.Equal(3, csv.Row);
        Assert.False(csv.Read());
    }

    [Fact]
    public void Finds_columns_case_insensitively_and_lists_the_header_when_missing()
    {
        using var csv = Read("IMG_ID,Latitude,LNG\n");
        Assert.Equal(1, csv.IndexOf("lat", "latitude"));
        Assert.Equal(2, csv.IndexOf("lon", "lng", "longitude"));
        var e = Assert.Throws<CsvFormatException>(() => csv.RequireColumn("altitude", "alt"));
        Assert.Contains("IMG_ID, Latitude, LNG", e.Message);
    }

    [Fact]
    public void Errors_name_file_row_and_column()
    {
        using var csv = Read("lat,lon\n1,2\nNaN,3\n95,1\n1,2,3\n");
        Assert.True(csv.Read());
        Assert.True(csv.Read());
        var e = Assert.Throws<CsvFormatException>(() => csv.GetDouble(0));
        Assert.Equal("test.csv, row 2, column 'lat': 'NaN' is not a finite number.", e.Message);
        Assert.True(csv.Read());
        Assert.Contains("row 3, column 'lat': latitude 95 is outside [-90, 90]", Assert.Throws<CsvFormatException>(() => csv.GetLatitude(0)).Message);
        Assert.Contains("row 4: has 3 fields; the header has 2", Assert.Throws<CsvFormatException>(() => csv.Read()).Message);
    }

    [Fact]
    public void Skips_preamble_lines()
    {
        using var csv = Read("num_images: 4723695\nmin_concept_probability: ---\nclass_label,hex_id\n0,8744\n", skip: 2);
        Assert.Equal(["class_label", "hex_id"], csv.Header);
        Assert.True(csv.Read());
        Assert.Equal("8744", csv.GetString(1));
    }

    [Fact]
    public void Writer_output_reads_back()
    {
        var sw = new StringWriter();
        using (var w = new CsvWriter(sw))
        {
            w.WriteRow("a", "b,c", "d\"e");
            w.Write(0.1);
            w.Write(-3L);
            w.Write(ulong.MaxValue);
            w.EndRow();
        }

        using var csv = Read(sw.ToString());
        Assert.Equal(["a", "b,c", "d\"e"], csv.Header);
        Assert.True(csv.Read());
        Assert.Equal(0.1, csv.GetDouble(0));
        Assert.Equal("18446744073709551615", csv.GetString(2));
    }

    /// <summary>A record longer than MaxRecordChars (no line break, or an unclosed quote) is refused, not read into memory whole.</summary>
    [Fact]
    public void Bounds_the_record_length()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("geotoken-csv").FullName, "long.csv");
        using (var w = new StreamWriter(path))
        {
            w.Write("id,lat,lon\na,1,2\n\"b");
            var chunk = new string('x', 1 << 16);
            for (int k = 0; k <= 3 * CsvReader.MaxRecordChars >> 16; k++) w.Write(chunk);
            w.Write("\n,1,2\n");
        }

        using (var csv = CsvReader.Open(path))
        {
            Assert.True(csv.Read());
            var e = Assert.Throws<CsvFormatException>(() => csv.Read());
            Assert.Contains("row 2", e.Message, StringComparison.Ordinal);
            Assert.Contains("longer than", e.Message, StringComparison.Ordinal);
        }

        using var index = CsvRowIndex.Build(path, 0, TestContext.Current.CancellationToken);
        Assert.Contains("more than", Assert.Throws<CsvFormatException>(() => index.GetFields(1)).Message, StringComparison.Ordinal);
        File.Delete(path);
    }

    /// <summary>Blank lines are not data rows: errors count data rows from 1, as CsvRowIndex and the feature rows do.</summary>
    [Fact]
    public void Rows_count_data_records_not_blank_lines()
    {
        using var csv = new CsvReader(new StringReader("id,lat\n\na,1\n\n\nb,95\n"), "t.csv");
        Assert.True(csv.Read());
        Assert.Equal(1, csv.Row);
        Assert.True(csv.Read());
        Assert.Equal(2, csv.Row);
        Assert.Contains("t.csv, row 2, column 'lat'", Assert.Throws<CsvFormatException>(() => csv.GetLatitude(1)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_endings_are_those_of_ReadLine()
    {
        using var csv = new CsvReader(new StringReader("id,lat\r\na,1\rb,2\r\n\"c\r\nd\",3"), "t.csv");
        var rows = new List<(string, string)>();
        while (csv.Read()) rows.Add((csv.GetString(0), csv.GetString(1)));
        Assert.Equal([("a", "1"), ("b", "2"), ("c\nd", "3")], rows);
    }
}

using System.Text;
using CsCheck;
using GeoToken.IO;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.IO;

/// <summary>
/// Property-based fuzzing of <see cref="CsvReader"/>: any text either reads, record by record with
/// exactly the header's field count, or fails with <see cref="CsvFormatException"/> naming the source.
/// </summary>
public sealed class CsvReaderFuzzTests
{
    private static readonly byte[] RealFile = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "osv5m_select.csv"));

    /// <summary>Text over the characters CSV treats specially, plus any character.</summary>
    private static readonly Gen<string> CsvLikeText =
        Gen.Frequency((8, Gen.Char["ab1.,,\"\"\n\r -e+"]), (1, Gen.Char)).Array[0, 300].Select(c => new string(c));

    [Fact]
    public Task Any_text_reads_or_fails_with_a_CsvFormatException_naming_the_source() =>
        Fuzz.SampleAsync(CsvLikeText, text => ReadAll(new StringReader(text)), 5000);

    [Fact]
    public Task Mutated_real_files_read_or_fail_with_a_CsvFormatException_naming_the_source() =>
        Fuzz.SampleAsync(ByteMutations.Of([RealFile[..Math.Min(RealFile.Length, 6000)]], focus: 800), bytes =>
            ReadAll(new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true)), 1500, ByteMutations.Describe);

    [Fact]
    public Task Rows_written_by_CsvWriter_read_back_unchanged_but_for_line_breaks_read_as_LF() =>
        Fuzz.SampleAsync(CsvLikeText.Array[3].Array[0, 20], rows =>
        {
            var sw = new StringWriter();
            using (var w = new CsvWriter(sw))
            {
                w.WriteRow("a", "b", "c");
                foreach (var row in rows) w.WriteRow(row);
            }

            using var csv = new CsvReader(new StringReader(sw.ToString()), "roundtrip.csv");
            foreach (var row in rows)
            {
                Assert.True(csv.Read());
                Assert.Equal<string[]>([.. row.Select(f => f.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n'))], [csv.GetString(0), csv.GetString(1), csv.GetString(2)]);
            }

            Assert.False(csv.Read());
            return null;
        }, 1000);

    private static Exception? ReadAll(TextReader text) => Fuzz.ParsesOrFailsDocumented(() =>
    {
        using var csv = new CsvReader(text, "fuzz.csv");
        while (csv.Read())
        {
            Assert.Equal(csv.Header.Count, csv.FieldCount);
            for (int i = 0; i < csv.FieldCount; i++)
            {
                _ = csv.GetString(i);
                Fuzz.ParsesOrFailsDocumented(() => csv.GetDouble(i), "fuzz.csv", typeof(CsvFormatException));
            }
        }
    }, "fuzz.csv", typeof(CsvFormatException));
}

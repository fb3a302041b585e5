using System.Globalization;
using System.Text;

namespace GeoToken.IO;

/// <summary>
/// A streaming reader of comma-separated files with a header line (RFC 4180 quoting, quoted
/// fields may span lines). Every error names the file, the 1-based data row and the column.
/// </summary>
/// <remarks>Not thread-safe. Field accessors refer to the current record until the next <see cref="Read"/>.
/// A line break inside a quoted field is read as <c>\n</c> whatever the file used (<c>\r\n</c>, <c>\r</c>).</remarks>
public sealed class CsvReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly List<(int Start, int Length)> _fields = new(16);
    private readonly StringBuilder _unquoted = new();
    private string _record = string.Empty;
    private string _unquotedText = string.Empty;
    private readonly Dictionary<string, int> _index = new(StringComparer.OrdinalIgnoreCase);
    private readonly char[] _buffer = new char[1 << 16];
    private readonly StringBuilder _line = new();
    private int _bufferStart, _bufferEnd;
    private bool _skipLineFeed;

    /// <summary>
    /// The longest record read, in characters (1 Mi; quoted fields spanning lines included). A longer one is
    /// refused: a file without line breaks or with an unclosed quote would otherwise be read into memory whole.
    /// </summary>
    public const int MaxRecordChars = 1 << 20;

    /// <summary>Reads from <paramref name="reader"/>; <paramref name="sourceName"/> names it in errors.</summary>
    /// <param name="reader">The text to read.</param>
    /// <param name="sourceName">A file name or description used in error messages.</param>
    /// <param name="skipLines">Lines to skip before the header (preambles such as MP16 cell files have).</param>
    public CsvReader(TextReader reader, string sourceName, int skipLines = 0)
    {
        ArgumentNullException.ThrowIfNull(reader);
        _reader = reader;
        SourceName = sourceName;
        for (int k = 0; k < skipLines; k++)
        {
            if (ReadLine(0) is null) throw new CsvFormatException(sourceName, -1, null, $"ended within the {skipLines} preamble lines.");
        }

        if (!ReadRecord()) throw new CsvFormatException(sourceName, -1, null, "is empty; a header line was expected.");
        var header = new string[_fields.Count];
        for (int k = 0; k < header.Length; k++)
        {
            header[k] = GetString(k).Trim();
            _index.TryAdd(header[k], k);
        }

        Header = header;
        Row = 0;
    }

    /// <summary>Opens a file for reading.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static CsvReader Open(string path, int skipLines = 0)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {path}", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new CsvReader(new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16), path, skipLines);
    }

    /// <summary>The file name used in error messages.</summary>
    public string SourceName { get; }

    /// <summary>The header's column names, trimmed.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The 1-based number of the current data record (0 before the first <see cref="Read"/>).</summary>
    public long Row { get; private set; }

    /// <summary>Fields in the current record.</summary>
    public int FieldCount => _fields.Count;

    /// <summary>The index of the first column whose name matches one of <paramref name="names"/> (case-insensitive), or −1.</summary>
    public int IndexOf(params ReadOnlySpan<string> names)
    {
        foreach (var n in names)
        {
            if (_index.TryGetValue(n, out int i)) return i;
        }

        return -1;
    }

    /// <summary>Like <see cref="IndexOf"/> but throws, listing the columns present, when none matches.</summary>
    public int RequireColumn(string what, params ReadOnlySpan<string> names)
    {
        int i = IndexOf(names);
        if (i >= 0) return i;
        throw new CsvFormatException(SourceName, -1, null,
            $"no {what} column (looked for {string.Join(", ", names.ToArray())}); the header has {string.Join(", ", Header)}.");
    }

    /// <summary>Advances to the next record; false at the end of the file.</summary>
    /// <exception cref="CsvFormatException">The record has a different number of fields than the header.</exception>
    public bool Read()
    {
        while (true)
        {
            if (!ReadRecord()) return false;
            if (_fields.Count == 1 && _fields[0].Length == 0) continue; // blank line: not a data row (as CsvRowIndex counts)
            Row++;
            if (_fields.Count != Header.Count)
            {
                throw new CsvFormatException(SourceName, Row, null, $"has {_fields.Count} fields; the header has {Header.Count}.");
            }

            return true;
        }
    }

    /// <summary>The field's text.</summary>
    public string GetString(int index) => Span(index).ToString();

    /// <summary>The field's text without allocating.</summary>
    public ReadOnlySpan<char> Span(int index)
    {
        var (start, length) = _fields[index];
        // Fields of lines without quotes point into the line; unescaped quoted fields into _unquotedText.
        return start >= 0 ? _record.AsSpan(start, length) : _unquotedText.AsSpan(~start, length);
    }

    /// <summary>The field as a finite double (invariant culture).</summary>
    /// <exception cref="CsvFormatException">Empty, not a number, NaN or infinite.</exception>
    public double GetDouble(int index)
    {
        var s = Span(index).Trim();
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
        {
            throw new CsvFormatException(SourceName, Row, Header[index], $"'{s}' is not a finite number.");
        }

        return v;
    }

    /// <summary>A latitude in [−90, 90] from the field.</summary>
    public double GetLatitude(int index)
    {
        double v = GetDouble(index);
        if (v is < -90 or > 90) throw new CsvFormatException(SourceName, Row, Header[index], $"latitude {v.ToString(CultureInfo.InvariantCulture)} is outside [-90, 90].");
        return v;
    }

    /// <summary>A longitude in [−180, 180] from the field.</summary>
    public double GetLongitude(int index)
    {
        double v = GetDouble(index);
        if (v is < -180 or > 180) throw new CsvFormatException(SourceName, Row, Header[index], $"longitude {v.ToString(CultureInfo.InvariantCulture)} is outside [-180, 180].");
        return v;
    }

    /// <summary>An error about the current record's <paramref name="index"/>-th field.</summary>
    public CsvFormatException Error(int index, string message) => new(SourceName, Row, Header[index], message);

    /// <inheritdoc/>
    public void Dispose() => _reader.Dispose();

    /// <summary>
    /// The next line without its terminator (\n, \r\n or \r, as <see cref="TextReader.ReadLine"/>), or null at the end;
    /// refuses a line that would make the record (<paramref name="recordChars"/> read so far) longer than <see cref="MaxRecordChars"/>.
    /// </summary>
    private string? ReadLine(int recordChars)
    {
        _line.Clear();
        bool any = false;
        while (true)
        {
            if (_bufferStart == _bufferEnd)
            {
                _bufferEnd = _reader.Read(_buffer, 0, _buffer.Length);
                _bufferStart = 0;
                if (_bufferEnd == 0) return any ? _line.ToString() : null;
            }

            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (_buffer[_bufferStart] == '\n')
                {
                    _bufferStart++;
                    continue;
                }
            }

            any = true;
            var span = _buffer.AsSpan(_bufferStart, _bufferEnd - _bufferStart);
            int end = span.IndexOfAny('\r', '\n');
            int take = end < 0 ? span.Length : end;
            if ((long)recordChars + _line.Length + take > MaxRecordChars)
            {
                throw new CsvFormatException(SourceName, Row + 1, null, $"has a record longer than {MaxRecordChars} characters; a line break is missing or a quote is not closed.");
            }

            _line.Append(span[..take]);
            _bufferStart += take;
            if (end >= 0)
            {
                _skipLineFeed = _buffer[_bufferStart++] == '\r';
                return _line.ToString();
            }
        }
    }

    private bool ReadRecord()
    {
        string? line = ReadLine(0);
        if (line is null) return false;
        _fields.Clear();
        if (line.Contains('"'))
        {
            ParseQuoted(line);
            return true;
        }

        _record = line;
        int start = 0;
        while (true)
        {
            int comma = line.IndexOf(',', start);
            if (comma < 0)
            {
                _fields.Add((start, line.Length - start));
                break;
            }

            _fields.Add((start, comma - start));
            start = comma + 1;
        }

        return true;
    }

    private void ParseQuoted(string line)
    {
        _unquoted.Clear();
        _record = string.Empty;
        int i = 0;
        while (true)
        {
            int fieldStart = _unquoted.Length;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        string? next = ReadLine(_unquoted.Length + 1) ?? throw new CsvFormatException(SourceName, Row + 1, null, "ends inside a quoted field.");
                        _unquoted.Append('\n');
                        line = next;
                        i = 0;
                        continue;
                    }

                    char c = line[i++];
                    if (c == '"')
                    {
                        if (i < line.Length && line[i] == '"')
                        {
                            _unquoted.Append('"');
                            i++;
                        }
                        else
                        {
                            break;
                        }
                    }
                    else
                    {
                        _unquoted.Append(c);
                    }
                }

                // Anything between the closing quote and the comma is kept verbatim.
                while (i < line.Length && line[i] != ',') _unquoted.Append(line[i++]);
            }
            else
            {
                while (i < line.Length && line[i] != ',') _unquoted.Append(line[i++]);
            }

            _fields.Add((~fieldStart, _unquoted.Length - fieldStart));
            if (i >= line.Length) break;
            i++; // comma
            if (i == line.Length)
            {
                _fields.Add((~_unquoted.Length, 0));
                break;
            }
        }

        _unquotedText = _unquoted.ToString();
    }
}

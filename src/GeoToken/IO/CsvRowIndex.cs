using System.Text;

namespace GeoToken.IO;

/// <summary>
/// Random access to the data records of a CSV file: one pass over the memory-mapped bytes records
/// where every record starts (8 bytes per row; quoted fields may contain commas and line breaks),
/// then any record is split on demand. Blank lines are skipped as <see cref="CsvReader"/> skips them.
/// </summary>
internal sealed unsafe class CsvRowIndex : IDisposable
{
    private readonly MappedFile _map;
    private readonly long[] _starts; // where each data record starts

    private CsvRowIndex(string path, MappedFile map, long[] starts, string[] header)
    {
        Path = path;
        _map = map;
        _starts = starts;
        Header = header;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The header's fields.</summary>
    public string[] Header { get; }

    /// <summary>Data records.</summary>
    public long Count => _starts.LongLength;

    /// <summary>Indexes <paramref name="path"/>, skipping <paramref name="skipLines"/> preamble lines and the header.</summary>
    public static CsvRowIndex Build(string path, int skipLines, CancellationToken cancellationToken = default)
    {
        long length = new FileInfo(path).Length;
        if (length == 0) throw new CsvFormatException(path, -1, null, "is empty; a header line was expected.");
        var map = MappedFile.Open(path, length);
        try
        {
            var starts = new List<long>();
            long pos = 0;
            if (length >= 3 && map.Pointer[0] == 0xEF && map.Pointer[1] == 0xBB && map.Pointer[2] == 0xBF) pos = 3;
            for (int k = 0; k < skipLines; k++)
            {
                long nl = IndexOfNewline(map.Pointer, pos, length);
                if (nl < 0) throw new CsvFormatException(path, -1, null, $"ended within the {skipLines} preamble lines.");
                pos = nl + 1;
            }

            long headerEnd = RecordEnd(map.Pointer, pos, length, out long next);
            if (headerEnd - pos > MaxRecordBytes) throw new CsvFormatException(path, -1, null, $"has a header line of {headerEnd - pos} bytes, more than {MaxRecordBytes}; a line break is missing.");
            string[] header = Split(Decode(map.Pointer, pos, headerEnd));
            pos = next;
            int row = 0;
            while (pos < length)
            {
                if ((++row & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
                long end = RecordEnd(map.Pointer, pos, length, out next);
                if (end > pos) starts.Add(pos); // blank lines are not records
                pos = next;
            }

            return new CsvRowIndex(path, map, [.. starts], header);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>The fields of data record <paramref name="row"/> (0-based).</summary>
    /// <exception cref="CsvFormatException">The record has a different number of fields than the header.</exception>
    public string[] GetFields(long row)
    {
        if ((ulong)row >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(row), row, $"{Path} has {Count} data rows.");
        long start = _starts[row];
        long end = RecordEnd(_map.Pointer, start, _map.Length, out _);
        if (end - start > MaxRecordBytes) throw new CsvFormatException(Path, row + 1, null, $"is {end - start} bytes long, more than {MaxRecordBytes}; a line break is missing or a quote is not closed.");
        string[] fields = Split(Decode(_map.Pointer, start, end));
        if (fields.Length != Header.Length)
        {
            throw new CsvFormatException(Path, row + 1, null, $"has {fields.Length} fields; the header has {Header.Length}.");
        }

        return fields;
    }

    /// <summary>Splits one CSV record (RFC 4180 quoting).</summary>
    internal static string[] Split(string record)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            sb.Clear();
            if (i < record.Length && record[i] == '"')
            {
                i++;
                while (i < record.Length)
                {
                    char c = record[i++];
                    if (c == '"')
                    {
                        if (i < record.Length && record[i] == '"')
                        {
                            sb.Append('"');
                            i++;
                        }
                        else
                        {
                            break;
                        }
                    }
                    else
                    {
                        sb.Append(c);
                    }
                }

                while (i < record.Length && record[i] != ',') sb.Append(record[i++]);
            }
            else
            {
                while (i < record.Length && record[i] != ',') sb.Append(record[i++]);
            }

            fields.Add(sb.ToString());
            if (i >= record.Length) break;
            i++; // comma
            if (i == record.Length)
            {
                fields.Add(string.Empty);
                break;
            }
        }

        return [.. fields];
    }

    /// <summary>The longest record decoded, in bytes (UTF-8 needs at most three per character of <see cref="CsvReader.MaxRecordChars"/>).</summary>
    private const long MaxRecordBytes = 3L * CsvReader.MaxRecordChars;

    private static string Decode(byte* p, long start, long end) =>
        Encoding.UTF8.GetString(new ReadOnlySpan<byte>(p + start, checked((int)(end - start))));

    private static long IndexOfNewline(byte* p, long pos, long length)
    {
        while (pos < length)
        {
            int chunk = (int)Math.Min(length - pos, int.MaxValue);
            int i = new ReadOnlySpan<byte>(p + pos, chunk).IndexOf((byte)'\n');
            if (i >= 0) return pos + i;
            pos += chunk;
        }

        return -1;
    }

    /// <summary>The end (exclusive, before '\n') of the record starting at <paramref name="pos"/>; <paramref name="next"/> is where the next one starts.</summary>
    private static long RecordEnd(byte* p, long pos, long length, out long next)
    {
        bool quoted = false;
        long start = pos;
        while (pos < length)
        {
            int chunk = (int)Math.Min(length - pos, int.MaxValue);
            var span = new ReadOnlySpan<byte>(p + pos, chunk);
            int i = span.IndexOfAny((byte)'\n', (byte)'"');
            if (i < 0)
            {
                pos += chunk;
                continue;
            }

            if (span[i] == '"')
            {
                quoted = !quoted;
                pos += i + 1;
                continue;
            }

            if (!quoted)
            {
                next = pos + i + 1;
                long end = pos + i;
                return end > start && p[end - 1] == '\r' ? end - 1 : end;
            }

            pos += i + 1;
        }

        next = length;
        return length > start && p[length - 1] == '\r' ? length - 1 : length;
    }

    /// <inheritdoc/>
    public void Dispose() => _map.Dispose();
}

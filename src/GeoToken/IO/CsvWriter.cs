using System.Globalization;
using System.Text;

namespace GeoToken.IO;

/// <summary>Writes comma-separated files (invariant culture, round-trippable doubles, RFC 4180 quoting where needed).</summary>
public sealed class CsvWriter : IDisposable
{
    private readonly TextWriter _writer;
    private bool _lineStarted;

    /// <summary>Writes to <paramref name="writer"/>.</summary>
    public CsvWriter(TextWriter writer) => _writer = writer ?? throw new ArgumentNullException(nameof(writer));

    /// <summary>Writes a whole line of text fields.</summary>
    public void WriteRow(params ReadOnlySpan<string> fields)
    {
        foreach (var f in fields) Write(f);
        EndRow();
    }

    /// <summary>Writes one text field.</summary>
    public void Write(string field)
    {
        Separator();
        if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
        {
            _writer.Write('"');
            _writer.Write(field.Replace("\"", "\"\"", StringComparison.Ordinal));
            _writer.Write('"');
        }
        else
        {
            _writer.Write(field);
        }
    }

    /// <summary>Writes one number field (shortest round-trippable form).</summary>
    public void Write(double value)
    {
        Separator();
        _writer.Write(value.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>Writes one integer field.</summary>
    public void Write(long value)
    {
        Separator();
        _writer.Write(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Writes one unsigned integer field.</summary>
    public void Write(ulong value)
    {
        Separator();
        _writer.Write(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Ends the current line.</summary>
    public void EndRow()
    {
        _writer.Write('\n');
        _lineStarted = false;
    }

    /// <summary>Creates a UTF-8 (no BOM) writer over a stream.</summary>
    public static CsvWriter Create(Stream stream, bool leaveOpen = true) =>
        new(new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen));

    /// <inheritdoc/>
    public void Dispose() => _writer.Dispose();

    private void Separator()
    {
        if (_lineStarted) _writer.Write(',');
        _lineStarted = true;
    }
}

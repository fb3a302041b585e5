namespace GeoToken.IO;

/// <summary>A CSV file is malformed or holds a bad value. The message names the file, row and column.</summary>
public sealed class CsvFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public CsvFormatException(string source, long row, string? column, string message)
        : base(Describe(source, row, column, message))
    {
        Source = source;
        Row = row;
        Column = column;
    }

    /// <summary>The file (or stream name).</summary>
    public new string Source { get; }

    /// <summary>The 1-based data row (the header is row 0), or −1 when the problem is not in a row.</summary>
    public long Row { get; }

    /// <summary>The column name, when the problem is in one field.</summary>
    public string? Column { get; }

    private static string Describe(string source, long row, string? column, string message)
    {
        string where = row >= 0 ? $"{source}, row {row}" : source;
        if (column is not null) where += $", column '{column}'";
        return $"{where}: {message}";
    }
}

using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// Streams a 1-D or 2-D little-endian C-order <c>.npy</c> file (format 1.0) to disk, rows appended
/// in blocks. Data goes to a temporary file in the target's folder; <see cref="Commit"/> writes the
/// final row count into the header, flushes and renames the file into place, so readers never see
/// a partial file. Disposing without committing deletes the temporary file.
/// </summary>
/// <remarks>
/// When the row count is not known up front the header is sized for the largest possible count
/// and padded with spaces, so it can be rewritten in place at the end (NumPy ignores the padding).
/// The data always starts at a multiple of 64 bytes. Not thread-safe.
/// </remarks>
public sealed class NpyWriter : IDisposable
{
    private const int ChunkElements = 1 << 15;
    private readonly FileStream _stream;
    private readonly long? _expectedRows;
    private readonly int _headerLength;
    private long _elements;
    private bool _completed;
    private bool _committed;

    private NpyWriter(string path, NpyDataType type, int? columns, long? rows)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GeoToken's .npy writer needs a little-endian machine.");
        if (columns is <= 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "Columns must be positive (or null for a 1-D array).");
        if (rows is < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Rows must be non-negative.");
        Path = System.IO.Path.GetFullPath(path);
        DataType = type;
        Columns = columns;
        _expectedRows = rows;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        TemporaryPath = AtomicFile.TemporaryPathFor(Path);
        _stream = new FileStream(TemporaryPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        try
        {
            // Size the header for the final count, or for the longest count (19 digits) when unknown.
            _headerLength = HeaderBytes(type, rows ?? long.MaxValue, columns).Length;
            _stream.Write(HeaderBytes(type, rows ?? 0, columns, _headerLength));
        }
        catch
        {
            _stream.Dispose();
            AtomicFile.TryDelete(TemporaryPath);
            throw;
        }
    }

    /// <summary>Starts writing <paramref name="path"/>.</summary>
    /// <param name="path">The final file; it is replaced only by <see cref="Commit"/>.</param>
    /// <param name="type">The stored element type.</param>
    /// <param name="columns">Columns of a 2-D array, or null for a 1-D array.</param>
    /// <param name="rows">The row count if known (checked at commit), or null to count the rows written.</param>
    public static NpyWriter Create(string path, NpyDataType type, int? columns, long? rows = null) => new(path, type, columns, rows);

    /// <summary>The final file.</summary>
    public string Path { get; }

    /// <summary>The temporary file being written.</summary>
    public string TemporaryPath { get; }

    /// <summary>The stored element type.</summary>
    public NpyDataType DataType { get; }

    /// <summary>Columns (null for a 1-D array).</summary>
    public int? Columns { get; }

    /// <summary>Whole rows written so far.</summary>
    public long RowsWritten => _elements / (Columns ?? 1);

    /// <summary>Appends rows given as float32 (stored as float16, float32 or float64).</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not a whole number of rows.</exception>
    /// <exception cref="InvalidOperationException">The file's type is an integer type.</exception>
    public void WriteRows(ReadOnlySpan<float> values)
    {
        CheckWritable(values.Length);
        switch (DataType)
        {
            case NpyDataType.Float32:
                WriteRaw(values);
                break;
            case NpyDataType.Float16:
                Convert(values, static (s, d) => TensorPrimitives.ConvertToHalf(s, d), default(Half));
                break;
            case NpyDataType.Float64:
                Convert(values, static (s, d) => { for (int k = 0; k < s.Length; k++) d[k] = s[k]; }, 0.0);
                break;
            default:
                throw WrongType("float32");
        }

        _elements += values.Length;
    }

    /// <summary>Appends rows given as float16 (stored as float16 or float32).</summary>
    public void WriteRows(ReadOnlySpan<Half> values)
    {
        CheckWritable(values.Length);
        switch (DataType)
        {
            case NpyDataType.Float16:
                WriteRaw(values);
                break;
            case NpyDataType.Float32:
                Convert(values, static (s, d) => TensorPrimitives.ConvertToSingle(s, d), 0f);
                break;
            default:
                throw WrongType("float16");
        }

        _elements += values.Length;
    }

    /// <summary>Appends rows given as float64 (stored as float64 only).</summary>
    public void WriteRows(ReadOnlySpan<double> values)
    {
        CheckWritable(values.Length);
        if (DataType != NpyDataType.Float64) throw WrongType("float64");
        WriteRaw(values);
        _elements += values.Length;
    }

    /// <summary>Appends rows given as int64 (stored as int64, or int32 when every value fits).</summary>
    /// <exception cref="OverflowException">A value does not fit in int32 (the message names its position).</exception>
    public void WriteRows(ReadOnlySpan<long> values)
    {
        CheckWritable(values.Length);
        switch (DataType)
        {
            case NpyDataType.Int64:
                WriteRaw(values);
                break;
            case NpyDataType.Int32:
                for (int k = 0; k < values.Length; k++)
                {
                    if (values[k] is < int.MinValue or > int.MaxValue)
                    {
                        throw new OverflowException($"{Path}: value {values[k]} at element {_elements + k} does not fit in int32.");
                    }
                }

                Convert(values, static (s, d) => { for (int k = 0; k < s.Length; k++) d[k] = (int)s[k]; }, 0);
                break;
            default:
                throw WrongType("int64");
        }

        _elements += values.Length;
    }

    /// <summary>Appends rows given as int32 (stored as int32 or int64).</summary>
    public void WriteRows(ReadOnlySpan<int> values)
    {
        CheckWritable(values.Length);
        switch (DataType)
        {
            case NpyDataType.Int32:
                WriteRaw(values);
                break;
            case NpyDataType.Int64:
                Convert(values, static (s, d) => { for (int k = 0; k < s.Length; k++) d[k] = s[k]; }, 0L);
                break;
            default:
                throw WrongType("int32");
        }

        _elements += values.Length;
    }

    /// <summary>
    /// Finishes the file: writes the row count into the header, flushes it to disk and renames it over
    /// <see cref="Path"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The row count given at creation differs from the rows written.</exception>
    public void Commit()
    {
        Complete();
        MoveIntoPlace();
    }

    /// <summary>Writes the final header and flushes the temporary file to disk (first half of <see cref="Commit"/>).</summary>
    internal void Complete()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        if (_completed) return;
        long rows = RowsWritten;
        if (_expectedRows is long expected && expected != rows)
        {
            throw new InvalidOperationException($"{Path}: {rows} rows were written but {expected} were announced.");
        }

        _stream.Flush();
        _stream.Position = 0;
        _stream.Write(HeaderBytes(DataType, rows, Columns, _headerLength));
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _completed = true;
    }

    /// <summary>Renames the completed temporary file over <see cref="Path"/> (second half of <see cref="Commit"/>).</summary>
    internal void MoveIntoPlace()
    {
        if (!_completed) throw new InvalidOperationException("Complete the file first.");
        if (_committed) return;
        File.Move(TemporaryPath, Path, overwrite: true);
        _committed = true;
    }

    /// <summary>Abandons an uncommitted file (deleting the temporary file).</summary>
    public void Dispose()
    {
        if (_committed) return;
        _stream.Dispose();
        AtomicFile.TryDelete(TemporaryPath);
        _committed = true;
    }

    /// <summary>The complete header (magic, version 1.0, length, dict, padding, newline) of at least <paramref name="minimumLength"/> bytes.</summary>
    internal static byte[] HeaderBytes(NpyDataType type, long rows, int? columns, int minimumLength = 0)
    {
        string dict = NpyHeader.Format(type, rows, columns);
        int unpadded = 10 + dict.Length + 1;
        int total = Math.Max(minimumLength, (unpadded + 63) / 64 * 64);
        if (total % 64 != 0) throw new InvalidOperationException("Header length must be a multiple of 64.");
        if (total - 10 > ushort.MaxValue) throw new InvalidOperationException("Header too long for format 1.0.");
        var bytes = new byte[total];
        NpyHeader.Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(total - 10));
        int n = Encoding.ASCII.GetBytes(dict, bytes.AsSpan(10));
        bytes.AsSpan(10 + n, total - 11 - n).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private void CheckWritable(int length)
    {
        ObjectDisposedException.ThrowIf(_completed || _committed, this);
        int c = Columns ?? 1;
        if (length % c != 0)
        {
            throw new ArgumentException($"{Path}: {length} values are not a whole number of rows of {c} columns.");
        }

        if (_expectedRows is long expected && (_elements + length) / c > expected)
        {
            throw new InvalidOperationException($"{Path}: writing {length / c} more rows would exceed the {expected} rows announced.");
        }
    }

    private InvalidOperationException WrongType(string given) =>
        new($"{Path} stores {DataType.Descr()}; {given} values cannot be written to it.");

    private void WriteRaw<T>(ReadOnlySpan<T> values)
        where T : unmanaged => _stream.Write(MemoryMarshal.AsBytes(values));

    private delegate void Converter<TFrom, TTo>(ReadOnlySpan<TFrom> source, Span<TTo> destination);

    private void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> values, Converter<TFrom, TTo> convert, TTo _)
        where TFrom : unmanaged
        where TTo : unmanaged
    {
        TTo[] buffer = ArrayPool<TTo>.Shared.Rent(Math.Min(ChunkElements, Math.Max(1, values.Length)));
        try
        {
            for (int start = 0; start < values.Length; start += buffer.Length)
            {
                int n = Math.Min(buffer.Length, values.Length - start);
                convert(values.Slice(start, n), buffer.AsSpan(0, n));
                WriteRaw<TTo>(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<TTo>.Shared.Return(buffer);
        }
    }
}

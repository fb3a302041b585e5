using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// A read-only, memory-mapped 1-D or 2-D NumPy array of <typeparamref name="T"/> (float, Half,
/// double, int or long) — e.g. a neighbor-index file of shape (queries, k) and <c>&lt;i8</c>.
/// Opening reads only the header; elements are paged in when touched.
/// </summary>
/// <remarks>A 1-D array of length n is seen as n rows of one column. Reading is thread-safe; spans are valid until disposal.</remarks>
/// <typeparam name="T">The element type; it must match the file's type exactly (no conversion).</typeparam>
public sealed unsafe class NpyArray<T> : IDisposable
    where T : unmanaged
{
    private readonly MappedFile? _map; // null for a file without data (zero elements)

    internal NpyArray(string path, NpyHeader header, MappedFile? map)
    {
        Path = path;
        Header = header;
        _map = map;
        Rows = header.Rows;
        Columns = checked((int)header.Columns);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The file's header.</summary>
    public NpyHeader Header { get; }

    /// <summary>1 or 2.</summary>
    public int Rank => Header.Rank;

    /// <summary>Length of the first dimension.</summary>
    public long Rows { get; }

    /// <summary>Length of the second dimension (1 for a 1-D array).</summary>
    public int Columns { get; }

    /// <summary>Total elements, <see cref="Rows"/> × <see cref="Columns"/>.</summary>
    public long Length => Rows * Columns;

    /// <summary>The element at (<paramref name="row"/>, <paramref name="column"/>).</summary>
    public T this[long row, int column]
    {
        get
        {
            if ((ulong)row >= (ulong)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"{Path} has {Rows} rows.");
            if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column), column, $"{Path} has {Columns} columns.");
            return Data[row * Columns + column];
        }
    }

    /// <summary>Element <paramref name="index"/> of the flattened (row-major) array.</summary>
    public T this[long index]
    {
        get
        {
            if ((ulong)index >= (ulong)Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Path} has {Length} elements.");
            return Data[index];
        }
    }

    /// <summary>One row's elements.</summary>
    public ReadOnlySpan<T> GetRow(long row) => GetRows(row, 1);

    /// <summary>The elements of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>), row-major.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rows do not exist, or they span more than 2³¹−1 elements.</exception>
    public ReadOnlySpan<T> GetRows(long start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside {Path}'s {Rows} rows.");
        }

        long elements = (long)count * Columns;
        if (elements > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), count, $"{count} rows × {Columns} columns exceed one span; read fewer rows at a time.");
        if (elements == 0) return [];
        return new ReadOnlySpan<T>(Data + start * Columns, (int)elements);
    }

    /// <summary>The whole array as one span (row-major).</summary>
    /// <exception cref="InvalidOperationException">The array has more than 2³¹−1 elements; use <see cref="GetRows"/>.</exception>
    public ReadOnlySpan<T> AsSpan()
    {
        if (Length > int.MaxValue) throw new InvalidOperationException($"{Path} has {Length} elements, more than one span holds; use GetRows.");
        return Length == 0 ? [] : new ReadOnlySpan<T>(Data, (int)Length);
    }

    /// <summary>Copies the whole array into a new managed array.</summary>
    public T[] ToArray() => AsSpan().ToArray();

    private T* Data => (T*)(_map!.Pointer + Header.DataOffset);

    /// <inheritdoc/>
    public void Dispose() => _map?.Dispose();
}

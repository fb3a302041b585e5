using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// Reading and writing NumPy <c>.npy</c> files: memory-mapped readers that open in O(1), a
/// streaming writer and one-shot writers. Supported: format versions 1.0, 2.0 and 3.0; C order;
/// 1-D or 2-D; little-endian <c>&lt;f2</c>, <c>&lt;f4</c>, <c>&lt;f8</c>, <c>&lt;i4</c>, <c>&lt;i8</c>.
/// </summary>
/// <remarks>
/// Everything else is rejected with an <see cref="NpyFormatException"/> that names the file and the
/// problem: object (pickled) arrays, <c>.npz</c> archives and pickles, Fortran order, big-endian and
/// other element types, other ranks, corrupt headers, and files shorter or longer than the header says.
/// </remarks>
public static class NpyFile
{
    /// <summary>Reads and validates the header of <paramref name="path"/> (also checks the file length).</summary>
    public static NpyHeader ReadHeader(string path) => NpyHeader.Read(path);

    /// <summary>
    /// Memory-maps a 2-D <c>&lt;f4</c> or <c>&lt;f2</c> file of shape (rows, dimension) as a <see cref="FeatureMatrix"/>.
    /// O(1): only the header is read.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NpyFormatException">The file is not a valid 2-D float16/float32 array (see <see cref="NpyFile"/>).</exception>
    public static NpyFeatureMatrix OpenFeatures(string path)
    {
        var header = NpyHeader.Read(path);
        if (header.DataType is not (NpyDataType.Float32 or NpyDataType.Float16))
        {
            throw new NpyFormatException(path, $"holds {header.DataType.Descr()} values; feature files must be float32 (<f4) or float16 (<f2).");
        }

        RequireRank2(path, header, "feature file", "(rows, dimension)");
        if (header.Columns == 0) throw new NpyFormatException(path, $"has shape ({header.Rows}, 0): feature vectors of dimension 0.");
        if (header.Columns > int.MaxValue) throw new NpyFormatException(path, $"has {header.Columns} columns; at most {int.MaxValue} are supported.");
        return new NpyFeatureMatrix(path, header, Map(path, header));
    }

    /// <summary>
    /// Memory-maps a 1-D or 2-D array whose element type is exactly <typeparamref name="T"/>
    /// (float ↔ <c>&lt;f4</c>, Half ↔ <c>&lt;f2</c>, double ↔ <c>&lt;f8</c>, int ↔ <c>&lt;i4</c>, long ↔ <c>&lt;i8</c>).
    /// </summary>
    /// <exception cref="NpyFormatException">The file is invalid or stores another element type.</exception>
    public static NpyArray<T> OpenArray<T>(string path)
        where T : unmanaged
    {
        var header = NpyHeader.Read(path);
        CheckType<T>(path, header);
        if (header.Columns > int.MaxValue) throw new NpyFormatException(path, $"has {header.Columns} columns; at most {int.MaxValue} are supported.");
        return new NpyArray<T>(path, header, Map(path, header));
    }

    /// <summary>
    /// Memory-maps a 2-D array of <typeparamref name="T"/>, e.g. a neighbor-index file of shape
    /// (queries, k) with <typeparamref name="T"/> = long, or neighbor similarities with float.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="expectedColumns">If given, the required number of columns (e.g. k).</param>
    /// <exception cref="NpyFormatException">The file is invalid, not 2-D, of another element type or width.</exception>
    public static NpyArray<T> OpenMatrix<T>(string path, int? expectedColumns = null)
        where T : unmanaged
    {
        var header = NpyHeader.Read(path);
        CheckType<T>(path, header);
        RequireRank2(path, header, "matrix", "(rows, columns)");
        if (expectedColumns is int c && header.Columns != c)
        {
            throw new NpyFormatException(path, $"has shape ({header.Rows}, {header.Columns}); {c} columns were expected.");
        }

        if (header.Columns > int.MaxValue) throw new NpyFormatException(path, $"has {header.Columns} columns; at most {int.MaxValue} are supported.");
        return new NpyArray<T>(path, header, Map(path, header));
    }

    /// <summary>Reads a whole 1-D or 2-D array of <typeparamref name="T"/> into memory (for small files).</summary>
    public static T[] ReadAll<T>(string path)
        where T : unmanaged
    {
        using var a = OpenArray<T>(path);
        return a.ToArray();
    }

    /// <summary>Starts a streaming writer (see <see cref="NpyWriter"/>).</summary>
    /// <param name="path">The final file.</param>
    /// <param name="type">The stored element type.</param>
    /// <param name="columns">Columns of a 2-D array, or null for 1-D.</param>
    /// <param name="rows">The row count if known, else null.</param>
    public static NpyWriter CreateWriter(string path, NpyDataType type, int? columns, long? rows = null) =>
        NpyWriter.Create(path, type, columns, rows);

    /// <summary>Writes a 2-D float32 array of <paramref name="columns"/> columns atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> values, int columns) => Write(path, NpyDataType.Float32, values, columns);

    /// <summary>Writes a 2-D array given as float32, stored as <paramref name="type"/> (float16, float32 or float64), atomically.</summary>
    public static void Write(string path, NpyDataType type, ReadOnlySpan<float> values, int columns)
    {
        using var w = NpyWriter.Create(path, type, columns, RowsOf(values.Length, columns));
        w.WriteRows(values);
        w.Commit();
    }

    /// <summary>Writes a 2-D float16 array atomically.</summary>
    public static void Write(string path, ReadOnlySpan<Half> values, int columns) => WriteMatrix(path, values, columns);

    /// <summary>Writes a 2-D float64 array atomically.</summary>
    public static void Write(string path, ReadOnlySpan<double> values, int columns) => WriteMatrix(path, values, columns);

    /// <summary>Writes a 2-D int64 array (e.g. neighbor indices of shape (queries, k)) atomically.</summary>
    public static void Write(string path, ReadOnlySpan<long> values, int columns) => WriteMatrix(path, values, columns);

    /// <summary>Writes a 2-D int32 array atomically.</summary>
    public static void Write(string path, ReadOnlySpan<int> values, int columns) => WriteMatrix(path, values, columns);

    /// <summary>Writes a 1-D array of <typeparamref name="T"/> (float, Half, double, int or long) atomically.</summary>
    public static void WriteVector<T>(string path, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        using var w = NpyWriter.Create(path, NpyDataTypes.Of<T>(), null, values.Length);
        WriteTyped(w, values);
        w.Commit();
    }

    // A 2-D array stored as its own element type.
    private static void WriteMatrix<T>(string path, ReadOnlySpan<T> values, int columns)
        where T : unmanaged
    {
        using var w = NpyWriter.Create(path, NpyDataTypes.Of<T>(), columns, RowsOf(values.Length, columns));
        WriteTyped(w, values);
        w.Commit();
    }

    private static void WriteTyped<T>(NpyWriter w, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values);
        if (typeof(T) == typeof(Half)) w.WriteRows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes));
        else if (typeof(T) == typeof(double)) w.WriteRows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes));
        else if (typeof(T) == typeof(long)) w.WriteRows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes));
        else if (typeof(T) == typeof(int)) w.WriteRows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes));
        else if (typeof(T) == typeof(float)) w.WriteRows(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes));
        else throw new NotSupportedException($"{typeof(T).Name} has no .npy type.");
    }

    private static long RowsOf(int length, int columns)
    {
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "Columns must be positive.");
        if (length % columns != 0) throw new ArgumentException($"{length} values are not a whole number of rows of {columns} columns.");
        return length / columns;
    }

    private static void CheckType<T>(string path, NpyHeader header)
        where T : unmanaged
    {
        var want = NpyDataTypes.Of<T>();
        if (header.DataType != want)
        {
            throw new NpyFormatException(path, $"stores {header.DataType.Descr()} values; {want.Descr()} ({typeof(T).Name}) was expected.");
        }
    }

    private static void RequireRank2(string path, NpyHeader header, string what, string shape)
    {
        if (header.Rank != 2)
        {
            throw new NpyFormatException(path, $"has shape ({header.Rows},), one dimension; a {what} must be 2-D {shape}. Save arr.reshape(len(arr), -1) if each row is one value.");
        }
    }

    private static MappedFile? Map(string path, NpyHeader header)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GeoToken's .npy reader needs a little-endian machine.");
        long length = header.DataOffset + header.DataBytes;
        return header.DataBytes == 0 ? null : MappedFile.Open(path, length);
    }
}

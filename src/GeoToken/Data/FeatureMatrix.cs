using System.Numerics.Tensors;

namespace GeoToken.Data;

/// <summary>
/// A read-only, row-major matrix of feature vectors (one row per image), stored as float32 or
/// float16 — in memory or memory-mapped from a NumPy <c>.npy</c> file. Rows are addressed with
/// 64-bit indices; a single span covers at most 2³¹−1 elements, so read large matrices in blocks.
/// </summary>
/// <remarks>Reading is thread-safe. Disposing releases any memory map.</remarks>
public abstract class FeatureMatrix : IDisposable
{
    /// <summary>Number of rows (vectors).</summary>
    public abstract long Rows { get; }

    /// <summary>Number of columns (the vector dimension).</summary>
    public abstract int Columns { get; }

    /// <summary>The stored element type.</summary>
    public abstract FeatureElementType ElementType { get; }

    /// <summary>
    /// The raw float32 elements of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).
    /// Only for <see cref="FeatureElementType.Float32"/> storage.
    /// </summary>
    public abstract ReadOnlySpan<float> GetFloat32Rows(long start, int count);

    /// <summary>
    /// The raw float16 elements of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).
    /// Only for <see cref="FeatureElementType.Float16"/> storage.
    /// </summary>
    public abstract ReadOnlySpan<Half> GetFloat16Rows(long start, int count);

    /// <summary>Copies rows into <paramref name="destination"/> as float32 (converting from float16 if needed).</summary>
    public void ReadRows(long start, int count, Span<float> destination)
    {
        CheckRange(start, count);
        long needed = (long)count * Columns;
        if (destination.Length < needed)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; {count} rows × {Columns} need {needed}.", nameof(destination));
        }

        if (ElementType == FeatureElementType.Float32)
        {
            GetFloat32Rows(start, count).CopyTo(destination);
        }
        else
        {
            TensorPrimitives.ConvertToSingle(GetFloat16Rows(start, count), destination[..(int)needed]);
        }
    }

    /// <summary>Copies one row into <paramref name="destination"/> as float32.</summary>
    public void ReadRow(long row, Span<float> destination) => ReadRows(row, 1, destination);

    /// <summary>Copies an arbitrary set of rows (e.g. retrieved neighbors) into consecutive slots of <paramref name="destination"/>.</summary>
    public void GatherRows(ReadOnlySpan<long> rows, Span<float> destination)
    {
        int c = Columns;
        if (destination.Length < (long)rows.Length * c)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; {rows.Length} rows × {c} need more.", nameof(destination));
        }

        for (int k = 0; k < rows.Length; k++) ReadRows(rows[k], 1, destination.Slice(k * c, c));
    }

    /// <summary>An in-memory float32 matrix over <paramref name="data"/> (row-major, not copied).</summary>
    public static FeatureMatrix FromArray(float[] data, int columns) => new InMemoryFeatureMatrix<float>(data, columns, FeatureElementType.Float32);

    /// <summary>An in-memory float16 matrix over <paramref name="data"/> (row-major, not copied).</summary>
    public static FeatureMatrix FromArray(Half[] data, int columns) => new InMemoryFeatureMatrix<Half>(data, columns, FeatureElementType.Float16);

    /// <summary>Throws unless rows [start, start + count) exist.</summary>
    protected void CheckRange(long start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the matrix's {Rows} rows.");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

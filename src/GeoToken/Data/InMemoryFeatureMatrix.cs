namespace GeoToken.Data;

/// <summary>A <see cref="FeatureMatrix"/> over a managed array.</summary>
internal sealed class InMemoryFeatureMatrix<T> : FeatureMatrix
    where T : unmanaged
{
    private readonly T[] _data;

    public InMemoryFeatureMatrix(T[] data, int columns, FeatureElementType type)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "Columns must be positive.");
        if (data.Length % columns != 0)
        {
            throw new ArgumentException($"{data.Length} values do not fill whole rows of {columns} columns.", nameof(data));
        }

        _data = data;
        Columns = columns;
        Rows = data.Length / columns;
        ElementType = type;
    }

    public override long Rows { get; }

    public override int Columns { get; }

    public override FeatureElementType ElementType { get; }

    public override ReadOnlySpan<float> GetFloat32Rows(long start, int count)
    {
        CheckRange(start, count);
        if (_data is not float[] f) throw new InvalidOperationException("The matrix stores float16; use GetFloat16Rows or ReadRows.");
        return f.AsSpan((int)(start * Columns), count * Columns);
    }

    public override ReadOnlySpan<Half> GetFloat16Rows(long start, int count)
    {
        CheckRange(start, count);
        if (_data is not Half[] h) throw new InvalidOperationException("The matrix stores float32; use GetFloat32Rows or ReadRows.");
        return h.AsSpan((int)(start * Columns), count * Columns);
    }
}

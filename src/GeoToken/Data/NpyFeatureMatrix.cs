using GeoToken.IO;

namespace GeoToken.Data;

/// <summary>
/// A <see cref="FeatureMatrix"/> memory-mapped from a 2-D <c>&lt;f4</c> or <c>&lt;f2</c> NumPy file.
/// Opening is O(1) (only the header is read); rows are paged in by the operating system when touched.
/// Open with <see cref="NpyFile.OpenFeatures"/>.
/// </summary>
public sealed unsafe class NpyFeatureMatrix : FeatureMatrix
{
    private readonly MappedFile? _map;

    internal NpyFeatureMatrix(string path, NpyHeader header, MappedFile? map)
    {
        Path = path;
        Header = header;
        _map = map;
        Rows = header.Rows;
        Columns = checked((int)header.Columns);
        ElementType = header.DataType == NpyDataType.Float16 ? FeatureElementType.Float16 : FeatureElementType.Float32;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The file's header.</summary>
    public NpyHeader Header { get; }

    /// <inheritdoc/>
    public override long Rows { get; }

    /// <inheritdoc/>
    public override int Columns { get; }

    /// <inheritdoc/>
    public override FeatureElementType ElementType { get; }

    /// <inheritdoc/>
    public override ReadOnlySpan<float> GetFloat32Rows(long start, int count)
    {
        CheckRange(start, count);
        if (ElementType != FeatureElementType.Float32) throw new InvalidOperationException($"{Path} stores float16; use GetFloat16Rows or ReadRows.");
        return new ReadOnlySpan<float>(Start(start, count), (int)((long)count * Columns));
    }

    /// <inheritdoc/>
    public override ReadOnlySpan<Half> GetFloat16Rows(long start, int count)
    {
        CheckRange(start, count);
        if (ElementType != FeatureElementType.Float16) throw new InvalidOperationException($"{Path} stores float32; use GetFloat32Rows or ReadRows.");
        return new ReadOnlySpan<Half>(Start(start, count), (int)((long)count * Columns));
    }

    private void* Start(long start, int count)
    {
        long elements = (long)count * Columns;
        if (elements > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), count, $"{count} rows × {Columns} columns exceed one span; read fewer rows at a time.");
        if (elements == 0) return null;
        return _map!.Pointer + Header.DataOffset + start * Columns * Header.ItemSize;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _map?.Dispose();
        base.Dispose(disposing);
    }
}

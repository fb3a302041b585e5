using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.RegularExpressions;
using GeoToken.Data;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>
/// A minimal memory-mapped reader of 2-D little-endian C-order float32/float16 <c>.npy</c> files for
/// the benchmark harness (the library's own NumPy reader lives on the data branch).
/// </summary>
internal sealed unsafe partial class NpyMatrix : FeatureMatrix
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data;
    private readonly int _itemSize;

    private NpyMatrix(string path)
    {
        using (var fs = File.OpenRead(path))
        {
            var head = new byte[10];
            fs.ReadExactly(head);
            if (head[0] != 0x93 || Encoding.ASCII.GetString(head, 1, 5) != "NUMPY") throw new InvalidDataException($"{path} is not a .npy file.");
            int major = head[6];
            int headerLength;
            int prefix;
            if (major == 1)
            {
                headerLength = head[8] | head[9] << 8;
                prefix = 10;
            }
            else
            {
                var more = new byte[2];
                fs.ReadExactly(more);
                headerLength = head[8] | head[9] << 8 | more[0] << 16 | more[1] << 24;
                prefix = 12;
            }

            var text = new byte[headerLength];
            fs.ReadExactly(text);
            string header = Encoding.ASCII.GetString(text);
            string descr = DescrPattern().Match(header).Groups[1].Value;
            if (header.Contains("'fortran_order': True", StringComparison.Ordinal)) throw new InvalidDataException($"{path} is Fortran-ordered.");
            var shape = ShapePattern().Match(header).Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (shape.Length != 2) throw new InvalidDataException($"{path} is not 2-D ({header}).");
            Rows = long.Parse(shape[0], System.Globalization.CultureInfo.InvariantCulture);
            Columns = int.Parse(shape[1], System.Globalization.CultureInfo.InvariantCulture);
            (ElementType, _itemSize) = descr switch
            {
                "<f4" => (FeatureElementType.Float32, 4),
                "<f2" => (FeatureElementType.Float16, 2),
                _ => throw new InvalidDataException($"{path} has dtype {descr}; float32 or float16 expected."),
            };
            DataOffset = prefix + headerLength;
        }

        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _data = p + _view.PointerOffset + DataOffset;
    }

    public long DataOffset { get; }

    public override long Rows { get; }

    public override int Columns { get; }

    public override FeatureElementType ElementType { get; }

    public static NpyMatrix Open(string path) => new(path);

    public override ReadOnlySpan<float> GetFloat32Rows(long start, int count)
    {
        CheckRange(start, count);
        if (ElementType != FeatureElementType.Float32) throw new InvalidOperationException("float16 storage");
        return new ReadOnlySpan<float>(_data + start * Columns * 4, checked(count * Columns));
    }

    public override ReadOnlySpan<Half> GetFloat16Rows(long start, int count)
    {
        CheckRange(start, count);
        if (ElementType != FeatureElementType.Float16) throw new InvalidOperationException("float32 storage");
        return new ReadOnlySpan<Half>(_data + start * Columns * 2, checked(count * Columns));
    }

    /// <summary>Writes a 2-D array as .npy (int64 or float32).</summary>
    public static void Write<T>(string path, ReadOnlySpan<T> values, long rows, int columns)
        where T : unmanaged
    {
        string descr = typeof(T) == typeof(long) ? "<i8" : typeof(T) == typeof(float) ? "<f4" : throw new NotSupportedException(typeof(T).Name);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        using var fs = File.Create(path);
        fs.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        fs.Write(Encoding.ASCII.GetBytes(header));
        fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
        }

        base.Dispose(disposing);
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

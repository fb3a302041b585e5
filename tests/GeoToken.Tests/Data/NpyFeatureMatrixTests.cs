using GeoToken.Data;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Data;

/// <summary>Memory-mapped feature matrices and the streaming writer.</summary>
public sealed class NpyFeatureMatrixTests
{
    /// <summary>float16 and float32 files read back as the values written, through every FeatureMatrix accessor.</summary>
    [Theory]
    [InlineData(NpyDataType.Float32)]
    [InlineData(NpyDataType.Float16)]
    public void Feature_files_read_back_through_every_accessor(NpyDataType type)
    {
        using var dir = new TempDir();
        const int rows = 257, cols = 24;
        var rng = new Random(3);
        float[] values = Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] expected = type == NpyDataType.Float16 ? values.Select(v => (float)(Half)v).ToArray() : values;
        string path = dir.File("f.npy");
        NpyFile.Write(path, type, values, cols);

        using var m = NpyFile.OpenFeatures(path);
        Assert.Equal(rows, m.Rows);
        Assert.Equal(cols, m.Columns);
        Assert.Equal(type == NpyDataType.Float16 ? FeatureElementType.Float16 : FeatureElementType.Float32, m.ElementType);

        var all = new float[rows * cols];
        m.ReadRows(0, rows, all);
        Assert.Equal(expected, all);

        var one = new float[cols];
        m.ReadRow(100, one);
        Assert.Equal(expected.AsSpan(100 * cols, cols).ToArray(), one);

        var gathered = new float[3 * cols];
        m.GatherRows([256, 0, 7], gathered);
        Assert.Equal(expected.AsSpan(256 * cols, cols).ToArray(), gathered[..cols]);
        Assert.Equal(expected.AsSpan(7 * cols, cols).ToArray(), gathered[(2 * cols)..]);

        if (type == NpyDataType.Float16)
        {
            Assert.Equal((Half)values[cols + 1], m.GetFloat16Rows(1, 1)[1]);
            Assert.Throws<InvalidOperationException>(() => m.GetFloat32Rows(0, 1).Length);
        }
        else
        {
            Assert.Equal(values[cols + 1], m.GetFloat32Rows(1, 1)[1]);
            Assert.Throws<InvalidOperationException>(() => m.GetFloat16Rows(0, 1).Length);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => m.ReadRows(250, 8, new float[8 * cols]));
    }

    /// <summary>
    /// A 20 GB (sparse) feature file opens from its header alone and its last row is readable: offsets
    /// beyond 4 GiB work and nothing reads the whole file.
    /// </summary>
    [Fact]
    public void A_20_GB_file_opens_from_its_header()
    {
        using var dir = new TempDir();
        string path = dir.File("huge.npy");
        const long rows = 5_000_000;
        const int cols = 1024;
        byte[] header = NpyWriter.HeaderBytes(NpyDataType.Float32, rows, cols);
        using (var fs = new FileStream(path, FileMode.CreateNew))
        {
            fs.Write(header);
            fs.SetLength(header.Length + rows * cols * 4); // sparse: no disk blocks are written
            fs.Position = header.Length + (rows - 1) * cols * 4 + 8;
            fs.Write(BitConverter.GetBytes(2.5f));
        }

        using var m = NpyFile.OpenFeatures(path);
        Assert.Equal(rows, m.Rows);
        var row = new float[cols];
        m.ReadRow(rows - 1, row);
        Assert.Equal(2.5f, row[2]);
        Assert.Equal(0f, row[3]);
        m.ReadRow(rows / 2, row);
        Assert.All(row, v => Assert.Equal(0f, v));
    }

    /// <summary>The streaming writer checks announced row counts, and abandoning it leaves nothing behind.</summary>
    [Fact]
    public void Streaming_writer_is_atomic_and_checks_counts()
    {
        using var dir = new TempDir();
        string path = dir.File("s.npy");
        using (var w = NpyWriter.Create(path, NpyDataType.Float32, 4, rows: 3))
        {
            w.WriteRows(new float[8]);
            Assert.False(File.Exists(path));
            var e = Assert.Throws<InvalidOperationException>(w.Commit);
            Assert.Contains("2 rows were written but 3 were announced", e.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(dir.Path));

        using (var w = NpyWriter.Create(path, NpyDataType.Float32, 4, rows: 1))
        {
            Assert.Throws<InvalidOperationException>(() => w.WriteRows(new float[8]));
            Assert.Throws<ArgumentException>(() => w.WriteRows(new float[3]));
            Assert.Throws<InvalidOperationException>(() => w.WriteRows(new long[4]));
        }

        // Replacing an existing file: until commit, readers see the old one.
        NpyFile.Write(path, [1f, 2f], 2);
        using (var w = NpyWriter.Create(path, NpyDataType.Float32, 2))
        {
            w.WriteRows([3f, 4f, 5f, 6f]);
            Assert.Equal([1f, 2f], NpyFile.ReadAll<float>(path));
            w.Commit();
        }

        Assert.Equal([3f, 4f, 5f, 6f], NpyFile.ReadAll<float>(path));
        Assert.Single(Directory.GetFiles(dir.Path));

        // int64 into an int32 file: values must fit.
        using (var w = NpyWriter.Create(dir.File("i4.npy"), NpyDataType.Int32, 2))
        {
            var e = Assert.Throws<OverflowException>(() => w.WriteRows([1L, 1L << 40]));
            Assert.Contains("element 1", e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Neighbor-style int64 matrices: element and row access.</summary>
    [Fact]
    public void Int64_matrix_rows_and_elements()
    {
        using var dir = new TempDir();
        long[] ids = Enumerable.Range(0, 6 * 15).Select(k => (long)k * 1_000_000_007L).ToArray();
        NpyFile.Write(dir.File("knn.npy"), ids, 15);
        using var a = NpyFile.OpenMatrix<long>(dir.File("knn.npy"), 15);
        Assert.Equal(6, a.Rows);
        Assert.Equal(2, a.Rank);
        Assert.Equal(ids[2 * 15 + 4], a[2, 4]);
        Assert.Equal(ids.AsSpan(3 * 15, 15).ToArray(), a.GetRow(3).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => a[6, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => a[0, 15]);
    }
}

using System.Runtime.InteropServices;
using GeoToken.Data;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Data;

/// <summary>Round trips with real NumPy: files NumPy writes are read by us, files we write are read by NumPy.</summary>
public sealed class NpyNumPyRoundTripTests
{
    /// <summary>Every supported type, in each format version, 1-D and 2-D, written by NumPy and read (memory-mapped) by us.</summary>
    [Fact]
    public void Reads_files_written_by_NumPy_in_versions_1_2_and_3()
    {
        using var dir = new TempDir();
        // For each case NumPy writes name.npy and the raw little-endian bytes name.raw as the truth.
        NumPyPeer.Run("""
            rng = np.random.default_rng(42)
            cases = []
            for dt in ['<f2', '<f4', '<f8', '<i4', '<i8']:
                for ver in [(1, 0), (2, 0), (3, 0)]:
                    for shape in [(37, 5), (1000,), (0, 3), (1, 1)]:
                        if dt.startswith('<f'):
                            a = rng.standard_normal(shape).astype(dt)
                        else:
                            a = rng.integers(-2**31, 2**31 - 1, size=shape).astype(dt)
                            if dt == '<i8' and a.size: a.flat[0] = -(2**62) - 12345
                        name = f"{dt[1:]}_v{ver[0]}_{'x'.join(map(str, shape))}"
                        with open(name + '.npy', 'wb') as f:
                            np.lib.format.write_array(f, a, version=ver)
                        a.tofile(name + '.raw')
                        cases.append(name)
            # np.save's own choice (1.0) as well
            b = rng.standard_normal((9, 4)).astype('<f4')
            np.save('save_f4.npy', b); b.tofile('save_f4.raw')
            print(len(cases))
            """, dir.Path);

        int checkedFiles = 0;
        foreach (string npy in Directory.GetFiles(dir.Path, "*.npy"))
        {
            string name = Path.GetFileNameWithoutExtension(npy);
            byte[] raw = File.ReadAllBytes(Path.ChangeExtension(npy, ".raw"));
            var header = NpyFile.ReadHeader(npy);
            string[] parts = name.Split('_');
            if (parts[0] != "save") Assert.Equal(int.Parse(parts[1][1..], System.Globalization.CultureInfo.InvariantCulture), header.MajorVersion);
            long[] shape = parts[0] == "save" ? [9, 4] : parts[2].Split('x').Select(long.Parse).ToArray();
            Assert.Equal(shape, header.Shape.ToArray());
            byte[] ours = header.DataType switch
            {
                NpyDataType.Float16 => Bytes<Half>(npy),
                NpyDataType.Float32 => Bytes<float>(npy),
                NpyDataType.Float64 => Bytes<double>(npy),
                NpyDataType.Int32 => Bytes<int>(npy),
                NpyDataType.Int64 => Bytes<long>(npy),
                _ => throw new InvalidOperationException(),
            };
            Assert.True(raw.AsSpan().SequenceEqual(ours), $"{name}: values differ from NumPy's");
            checkedFiles++;
        }

        Assert.Equal(5 * 3 * 4 + 1, checkedFiles);
    }

    private static byte[] Bytes<T>(string path)
        where T : unmanaged
    {
        using var a = NpyFile.OpenArray<T>(path);
        return MemoryMarshal.AsBytes(a.AsSpan()).ToArray();
    }

    /// <summary>NumPy's version-2.0 file with a header over 64 KiB (a structured array) is rejected as structured, not misparsed.</summary>
    [Fact]
    public void Version_2_header_over_64_KiB_is_parsed_and_its_structured_dtype_rejected()
    {
        using var dir = new TempDir();
        NumPyPeer.Run("""
            dt = np.dtype([(f'field_{i:05d}', '<f4') for i in range(4000)])
            a = np.zeros(2, dtype=dt)
            np.save('big.npy', a)
            with open('big.npy', 'rb') as f:
                head = f.read(12)
            assert head[6] == 2, head
            """, dir.Path);
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadHeader(dir.File("big.npy")));
        Assert.Contains("structured array", e.Message, StringComparison.Ordinal);
        Assert.Contains("big.npy", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Files we write (one-shot and streamed, with and without a known row count) are read back by NumPy with identical values.</summary>
    [Fact]
    public void NumPy_reads_files_we_write()
    {
        using var dir = new TempDir();
        var rng = new Random(7);
        float[] f = Enumerable.Range(0, 23 * 6).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray();
        long[] l = Enumerable.Range(0, 11 * 15).Select(_ => rng.NextInt64(long.MinValue, long.MaxValue)).ToArray();
        int[] i4 = Enumerable.Range(0, 40).Select(_ => rng.Next(int.MinValue, int.MaxValue)).ToArray();
        double[] d = Enumerable.Range(0, 50 * 2).Select(_ => rng.NextDouble() * 360 - 180).ToArray();
        Half[] h = f.Select(x => (Half)x).ToArray();

        NpyFile.Write(dir.File("f4.npy"), f, 6);
        NpyFile.Write(dir.File("f2.npy"), NpyDataType.Float16, f, 6);
        NpyFile.Write(dir.File("f2h.npy"), h, 6);
        NpyFile.Write(dir.File("i8.npy"), l, 15);
        NpyFile.Write(dir.File("f8.npy"), d, 2);
        NpyFile.WriteVector<int>(dir.File("i4v.npy"), i4);
        NpyFile.WriteVector<float>(dir.File("f4v.npy"), f);
        using (var w = NpyFile.CreateWriter(dir.File("stream.npy"), NpyDataType.Float16, 6))
        {
            // Unknown row count: the header is patched at commit; blocks of uneven size.
            w.WriteRows(f.AsSpan(0, 6 * 5));
            w.WriteRows(f.AsSpan(6 * 5, 6 * 17));
            w.WriteRows(f.AsSpan(6 * 22));
            w.Commit();
        }

        using (var w = NpyFile.CreateWriter(dir.File("empty.npy"), NpyDataType.Float32, 4))
        {
            w.Commit();
        }

        File.WriteAllBytes(dir.File("f4.raw"), MemoryMarshal.AsBytes(f.AsSpan()).ToArray());
        File.WriteAllBytes(dir.File("f2.raw"), MemoryMarshal.AsBytes(h.AsSpan()).ToArray());
        File.WriteAllBytes(dir.File("i8.raw"), MemoryMarshal.AsBytes(l.AsSpan()).ToArray());
        File.WriteAllBytes(dir.File("i4.raw"), MemoryMarshal.AsBytes(i4.AsSpan()).ToArray());
        File.WriteAllBytes(dir.File("f8.raw"), MemoryMarshal.AsBytes(d.AsSpan()).ToArray());

        string output = NumPyPeer.Run("""
            def check(name, raw, dtype, shape):
                for mode in [None, 'r']:
                    a = np.load(name, mmap_mode=mode, allow_pickle=False)
                    assert a.dtype == np.dtype(dtype), (name, a.dtype)
                    assert a.shape == shape, (name, a.shape)
                    assert a.flags['C_CONTIGUOUS'], name
                    want = np.fromfile(raw, dtype=dtype).reshape(shape) if raw else np.zeros(shape, dtype)
                    assert np.array_equal(a, want), name
                with open(name, 'rb') as fh:
                    fh.read(8); n = int.from_bytes(fh.read(2), 'little')
                    assert (10 + n) % 64 == 0, (name, n)
            check('f4.npy', 'f4.raw', '<f4', (23, 6))
            check('f2.npy', 'f2.raw', '<f2', (23, 6))
            check('f2h.npy', 'f2.raw', '<f2', (23, 6))
            check('stream.npy', 'f2.raw', '<f2', (23, 6))
            check('i8.npy', 'i8.raw', '<i8', (11, 15))
            check('f8.npy', 'f8.raw', '<f8', (50, 2))
            check('i4v.npy', 'i4.raw', '<i4', (40,))
            check('f4v.npy', 'f4.raw', '<f4', (138,))
            check('empty.npy', None, '<f4', (0, 4))
            print('all ok')
            """, dir.Path);
        Assert.Contains("all ok", output, StringComparison.Ordinal);
    }

    /// <summary>The float16 conversion on write rounds exactly as NumPy's astype(float16) does.</summary>
    [Fact]
    public void Float16_conversion_matches_NumPy()
    {
        using var dir = new TempDir();
        var rng = new Random(11);
        float[] f = Enumerable.Range(0, 4096).Select(k => k switch
        {
            0 => 65504f, 1 => 65520f, 2 => 6e-8f, 3 => -0f, 4 => 1e-5f,
            _ => (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-20, 17))),
        }).ToArray();
        NpyFile.Write(dir.File("ours.npy"), NpyDataType.Float16, f, 64);
        NpyFile.Write(dir.File("src.npy"), f, 64);
        string output = NumPyPeer.Run("""
            a = np.load('src.npy').astype(np.float16)
            b = np.load('ours.npy')
            assert np.array_equal(a.view(np.uint16), b.view(np.uint16)), np.nonzero(a.view(np.uint16) != b.view(np.uint16))
            print('same bits')
            """, dir.Path);
        Assert.Contains("same bits", output, StringComparison.Ordinal);
    }
}

using System.Text;
using GeoToken.Data;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Data;

/// <summary>Every kind of unusable .npy file is rejected with a message naming the file and the problem.</summary>
public sealed class NpyRejectionTests
{
    private static NpyFormatException Reject(string path, string expectedFragment)
    {
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.ReadHeader(path));
        Assert.Contains(Path.GetFileName(path), e.Message, StringComparison.Ordinal);
        Assert.Contains(expectedFragment, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.FilePath);
        return e;
    }

    /// <summary>Arrays NumPy writes that we must refuse: objects (pickle), Fortran order, big-endian, other types and ranks, npz and pickles.</summary>
    [Fact]
    public void NumPy_files_we_do_not_read_are_rejected_with_reasons()
    {
        using var dir = new TempDir();
        NumPyPeer.Run("""
            import pickle
            np.save('object.npy', np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
            np.save('fortran.npy', np.asfortranarray(np.arange(12, dtype='<f4').reshape(3, 4)))
            np.save('bigendian.npy', np.arange(12, dtype='>f4').reshape(3, 4))
            np.save('uint8.npy', np.arange(12, dtype='u1').reshape(3, 4))
            np.save('complex.npy', np.zeros((3, 4), dtype='<c8'))
            np.save('unicode.npy', np.array(['a', 'b']))
            np.save('rank3.npy', np.zeros((2, 3, 4), dtype='<f4'))
            np.save('rank0.npy', np.float32(3.5))
            np.savez('archive.npz', a=np.zeros(3))
            with open('pickled.npy', 'wb') as f: pickle.dump(np.zeros(3), f, protocol=4)
            np.save('fortran_vector.npy', np.asfortranarray(np.arange(5, dtype='<f4')))
            np.save('fortran_row.npy', np.asfortranarray(np.arange(5, dtype='<f4').reshape(1, 5)))
            """, dir.Path);

        Reject(dir.File("object.npy"), "pickle");
        Reject(dir.File("fortran.npy"), "Fortran");
        Reject(dir.File("bigendian.npy"), "big-endian");
        Reject(dir.File("uint8.npy"), "|u1");
        Reject(dir.File("complex.npy"), "<c8");
        Reject(dir.File("unicode.npy"), "<U1");
        Reject(dir.File("rank3.npy"), "3-dimensional");
        Reject(dir.File("rank0.npy"), "0-dimensional");
        Reject(dir.File("archive.npz"), "zip archive");
        Reject(dir.File("pickled.npy"), "Python pickle");

        // A Fortran-order vector (or single row) has the same bytes as C order and is accepted.
        Assert.Equal(5, NpyFile.ReadAll<float>(dir.File("fortran_vector.npy")).Length);
        Assert.Equal([0f, 1, 2, 3, 4], NpyFile.ReadAll<float>(dir.File("fortran_row.npy")));
    }

    /// <summary>Files shorter or longer than header + rows × columns × itemsize.</summary>
    [Fact]
    public void Truncated_files_and_trailing_bytes_are_rejected()
    {
        using var dir = new TempDir();
        string good = dir.File("good.npy");
        NpyFile.Write(good, new float[40], 8);
        byte[] bytes = File.ReadAllBytes(good);

        string truncated = dir.File("truncated.npy");
        File.WriteAllBytes(truncated, bytes[..^3]);
        var e = Reject(truncated, "truncated");
        Assert.Contains("(5, 8)", e.Message, StringComparison.Ordinal);

        string trailing = dir.File("trailing.npy");
        File.WriteAllBytes(trailing, [.. bytes, 0, 0, 0, 0]);
        Reject(trailing, "4 trailing bytes");

        string headerOnly = dir.File("cut_header.npy");
        File.WriteAllBytes(headerOnly, bytes[..40]);
        Reject(headerOnly, "truncated");

        string empty = dir.File("empty.npy");
        File.WriteAllBytes(empty, []);
        Reject(empty, "empty");

        Assert.Throws<FileNotFoundException>(() => NpyFile.OpenFeatures(dir.File("missing.npy")));
    }

    /// <summary>Hand-made corrupt headers.</summary>
    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", "keys must be exactly")]
    [InlineData("{'descr': '<f4', 'shape': (2, 3), }", "keys must be exactly")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "corrupt header")]
    [InlineData("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", "'fortran_order' is not True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", "'shape' is not a tuple")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "not a non-negative integer")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "1-tuple")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } garbage", "after the dict")]
    [InlineData("['descr', '<f4']", "not a Python dict")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'descr': '<f2'}", "duplicate key")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", "impossibly large")]
    public void Corrupt_headers_are_rejected(string dict, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("corrupt.npy");
        File.WriteAllBytes(path, Build(1, dict, dataBytes: 24));
        Reject(path, expected);
    }

    /// <summary>Unknown versions, bad magic and header lengths beyond the file.</summary>
    [Fact]
    public void Bad_magic_version_and_header_length_are_rejected()
    {
        using var dir = new TempDir();
        const string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

        string v4 = dir.File("v4.npy");
        File.WriteAllBytes(v4, Build(4, dict, 24));
        Reject(v4, "version 4.0");

        string magic = dir.File("magic.npy");
        byte[] b = Build(1, dict, 24);
        b[1] = (byte)'X';
        File.WriteAllBytes(magic, b);
        Reject(magic, "magic");

        string longHeader = dir.File("long_header.npy");
        b = Build(1, dict, 24);
        b[8] = 0xff;
        b[9] = 0xff;
        File.WriteAllBytes(longHeader, b);
        Reject(longHeader, "header claims 65535 bytes");

        string badUtf8 = dir.File("bad_utf8.npy");
        b = Build(3, dict, 24);
        b[14] = 0xff;
        File.WriteAllBytes(badUtf8, b);
        Reject(badUtf8, "UTF-8");
    }

    /// <summary>OpenFeatures insists on 2-D float data, OpenMatrix on the type and width asked for.</summary>
    [Fact]
    public void Openers_check_type_rank_and_width()
    {
        using var dir = new TempDir();
        NpyFile.WriteVector<float>(dir.File("vector.npy"), new float[10]);
        NpyFile.Write(dir.File("ids.npy"), new long[30], 15);
        NpyFile.Write(dir.File("zero_cols.npy"), Array.Empty<float>(), 1);

        var e = Assert.Throws<NpyFormatException>(() => NpyFile.OpenFeatures(dir.File("vector.npy")));
        Assert.Contains("one dimension", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<NpyFormatException>(() => NpyFile.OpenFeatures(dir.File("ids.npy")));
        Assert.Contains("<i8", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<NpyFormatException>(() => NpyFile.OpenMatrix<int>(dir.File("ids.npy")));
        Assert.Contains("<i4 (Int32) was expected", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<NpyFormatException>(() => NpyFile.OpenMatrix<long>(dir.File("ids.npy"), expectedColumns: 10));
        Assert.Contains("10 columns were expected", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<NpyFormatException>(() => NpyFile.OpenMatrix<float>(dir.File("vector.npy")));
        Assert.Contains("must be 2-D", e.Message, StringComparison.Ordinal);
        using var ok = NpyFile.OpenMatrix<long>(dir.File("ids.npy"), expectedColumns: 15);
        Assert.Equal(2, ok.Rows);
    }

    /// <summary>A .npy file: magic, version, length, dict padded to 64 bytes, then <paramref name="dataBytes"/> zero bytes.</summary>
    internal static byte[] Build(int major, string dict, int dataBytes)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        int prefix = 8 + lengthBytes;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - prefix - 1) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, .. "NUMPY"u8, (byte)major, 0]);
        if (major == 1) ms.Write(BitConverter.GetBytes((ushort)header.Length));
        else ms.Write(BitConverter.GetBytes((uint)header.Length));
        ms.Write(Encoding.UTF8.GetBytes(header));
        ms.Write(new byte[dataBytes]);
        return ms.ToArray();
    }

    /// <summary>A header claiming 10¹² rows over a 16-byte body is refused before anything is allocated for it.</summary>
    [Fact]
    public void A_huge_shape_in_a_small_file_allocates_nothing()
    {
        using var dir = new TempDir();
        string path = dir.File("huge.npy");
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 4), }";
        header = header.PadRight(118 - 10 + 9) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8) };
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        bytes.AddRange(new byte[16]);
        File.WriteAllBytes(path, bytes.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<NpyFormatException>(() => NpyFile.OpenFeatures(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
    }
}

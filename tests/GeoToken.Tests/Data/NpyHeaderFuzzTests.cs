using System.Text;
using CsCheck;
using GeoToken.Data;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Data;

/// <summary>
/// Property-based fuzzing of <see cref="NpyHeader.Read(string)"/>: any file either yields a header
/// whose data exactly fills the file, or fails with <see cref="NpyFormatException"/> naming the file.
/// </summary>
public sealed class NpyHeaderFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Valid files: versions 1.0, 2.0 and 3.0; float32, float16 and uint8; 1-D and 2-D.</summary>
    private static readonly byte[][] Seeds =
    [
        Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 48),
        Npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", 10),
        Npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 16),
        Npy(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }", 7),
    ];

    /// <summary>Header dictionaries assembled from the tokens Python's repr uses, valid or not.</summary>
    private static readonly Gen<string> HeaderText = Gen.OneOf<string>(
        "{", "}", "'descr'", ":", ": ", "'<f4'", "'<f2'", "'<f8'", "'>f4'", "'|u1'", "'|O'", "'<U3'", "'fortran_order'", "False", "True",
        "'shape'", "(", ")", ",", ", ", "0", "3", "-1", "1e3", "4294967296", "99999999999999999999", "9223372036854775807", " ", "'", "\"", "\\", "\n", "L", "é")
        .Array[0, 24].Select(t => string.Concat(t));

    [Fact]
    public Task Mutated_and_random_files_give_a_consistent_header_or_an_NpyFormatException_naming_the_file() =>
        Fuzz.SampleAsync(ByteMutations.Of(Seeds, focus: 128), Check, 3000, ByteMutations.Describe);

    /// <summary>Well-formed dictionaries with valid and invalid values, and data that fits the shape or not.</summary>
    private static readonly Gen<byte[]> StructuredFile =
        Gen.Select(
            Gen.OneOf<(string Descr, int Size)>(("'<f4'", 4), ("'<f2'", 2), ("'|u1'", 1), ("'>f4'", 4), ("'<f8'", 8), ("'|O'", 8), ("'<i8'", 8), ("'f4'", 4), ("3", 1)),
            Gen.OneOf<string>("False", "True", "0", "None"),
            Gen.OneOf(Gen.Long[0, 6], Gen.Long[-3, -1], Gen.OneOf<long>(1L << 40, 1L << 62, long.MaxValue)).Array[0, 3],
            Gen.Bool,
            Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[-2, 2])),
            Gen.Int[1, 3],
            (descr, fortran, shape, swap, slack, major) =>
            {
                string tuple = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
                string dict = swap
                    ? $"{{'shape': {tuple}, 'fortran_order': {fortran}, 'descr': {descr.Descr}, }}"
                    : $"{{'descr': {descr.Descr}, 'fortran_order': {fortran}, 'shape': {tuple}, }}";
                long elements = shape.Aggregate(1L, (a, n) => n is >= 0 and <= 1000 ? a * n : 1000);
                return Npy(major, dict, (int)Math.Max(0, Math.Min(8000, (elements * descr.Size) + slack)));
            });

    [Fact]
    public Task Well_formed_header_dictionaries_give_a_consistent_header_or_an_NpyFormatException_naming_the_file() =>
        Fuzz.SampleAsync(StructuredFile, Check, 3000, ByteMutations.Describe);

    [Fact]
    public Task Arbitrary_header_dictionaries_give_a_consistent_header_or_an_NpyFormatException_naming_the_file() =>
        Fuzz.SampleAsync(Gen.Select(HeaderText, Gen.Int[1, 3], Gen.Int[0, 64]), x => Check(Npy(x.Item2, x.Item1, x.Item3)), 1500);

    private Exception? Check(byte[] file)
    {
        string path = _dir.File("fuzz.npy");
        File.WriteAllBytes(path, file);
        NpyHeader? header = null;
        var failure = Fuzz.ParsesOrFailsDocumented(() => header = NpyHeader.Read(path), path, typeof(NpyFormatException));
        if (header is not null)
        {
            Assert.InRange(header.Shape.Length, 1, 2);
            Assert.All(header.Shape, n => Assert.True(n >= 0));
            Assert.Equal(file.Length, header.DataOffset + header.DataBytes);
        }

        return failure;
    }

    /// <summary>A .npy file: magic, version, header length, the header padded to 64 bytes, <paramref name="dataBytes"/> zero bytes.</summary>
    private static byte[] Npy(int major, string dict, int dataBytes)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] text = Encoding.UTF8.GetBytes(dict);
        int unpadded = 6 + 2 + lengthBytes + text.Length + 1;
        int headerLength = text.Length + 1 + ((64 - (unpadded % 64)) % 64);
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        ms.Write(BitConverter.GetBytes(headerLength).AsSpan(0, lengthBytes));
        ms.Write(text);
        ms.Write(Enumerable.Repeat((byte)' ', headerLength - text.Length - 1).ToArray());
        ms.WriteByte((byte)'\n');
        ms.Write(new byte[dataBytes]);
        return ms.ToArray();
    }
}

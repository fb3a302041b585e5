using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CsCheck;
using GeoToken.IO;
using GeoToken.Tests.Support;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.IO;

/// <summary>
/// The safetensors reader and writer against the format's specification, with NumPy as the oracle on both
/// sides (files produced byte by byte from the spec with struct/json/numpy; no safetensors package involved).
/// </summary>
public class SafeTensorsFileTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // 4,200,001 float32 values span more than one 16 MB chunk of the streaming reader and writer.
    private const int BigCount = 4_200_001;
    private const int ChunkElements = (1 << 24) / 4;

    private static readonly string[] Names = ["big", "bool.mask", "bytes", "double", "empty", "half", "int", "long", "scalar", "weight.bf16", "weight.f32"];

    /// <summary>The test tensors, as both the C# side and the Python oracle build them.</summary>
    private static StateDict Sample()
    {
        var d = new StateDict();
        d.Add("weight.f32", (arange(12, dtype: ScalarType.Float32).reshape(3, 4) * 0.5f) - 1f);
        d.Add("half", (arange(6, dtype: ScalarType.Float32) * 0.25f).reshape(2, 3).to(ScalarType.Float16));
        d.Add("weight.bf16", tensor(new[] { 1.5f, -2f, 0.15625f, 3f }).to(ScalarType.BFloat16));
        d.Add("double", tensor(new[] { Math.PI, -Math.E }));
        d.Add("long", tensor(new[] { -(1L << 40), 7L, 1L << 62 }));
        d.Add("int", tensor(new[] { -5, int.MaxValue }).reshape(2, 1));
        d.Add("bytes", tensor(new byte[] { 0, 255, 7 }));
        d.Add("bool.mask", tensor(new[] { true, false, true }));
        d.Add("scalar", tensor(2.5f));
        d.Add("empty", zeros(0, 3));
        d.Add("big", arange(BigCount, dtype: ScalarType.Float32));
        return d;
    }

    private const string PythonWriter = """
        import json, struct
        def bf16(values):
            return (np.array(values, dtype="<f4").view("<u4") >> 16).astype("<u2")
        tensors = {
            "weight.f32": ("F32", np.arange(12, dtype="<f4").reshape(3, 4) * np.float32(0.5) - np.float32(1)),
            "half": ("F16", (np.arange(6, dtype="<f4") * np.float32(0.25)).reshape(2, 3).astype("<f2")),
            "weight.bf16": ("BF16", bf16([1.5, -2.0, 0.15625, 3.0])),
            "double": ("F64", np.array([np.pi, -np.e], dtype="<f8")),
            "long": ("I64", np.array([-(2**40), 7, 2**62], dtype="<i8")),
            "int": ("I32", np.array([[-5], [2**31 - 1]], dtype="<i4")),
            "bytes": ("U8", np.array([0, 255, 7], dtype="u1")),
            "bool.mask": ("BOOL", np.array([True, False, True])),
            "scalar": ("F32", np.array(2.5, dtype="<f4")),
            "empty": ("F32", np.zeros((0, 3), dtype="<f4")),
            "big": ("F32", np.arange(4200001, dtype="<f4")),
        }
        # The data in reverse name order, the header sorted by name: header order is not data order.
        entries, data = {}, b""
        for name in sorted(tensors, reverse=True):
            dtype, a = tensors[name]
            blob = np.ascontiguousarray(a).tobytes()
            entries[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(blob)]}
            data += blob
        header = {"__metadata__": {"format": "pt", "note": "written by numpy"}}
        header.update({name: entries[name] for name in sorted(entries)})
        js = json.dumps(header, separators=(",", ":")).encode("utf-8")
        js += b" " * (-len(js) % 8)
        with open(sys.argv[1], "wb") as f:
            f.write(struct.pack("<Q", len(js)) + js + data)
        """;

    private const string PythonReader = """
        import json, struct
        raw = open(sys.argv[1], "rb").read()
        (n,) = struct.unpack_from("<Q", raw, 0)
        assert n % 8 == 0, n
        assert raw[8:9] == b"{", raw[8:9]
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        meta = header.pop("__metadata__", {})
        data = raw[8 + n:]
        position = 0
        for begin, end in sorted(tuple(e["data_offsets"]) for e in header.values()):
            assert begin == position, (begin, position)
            position = end
        assert position == len(data), (position, len(data))
        types = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
        out = {"metadata": meta, "order": list(header.keys()), "tensors": {}}
        for name, e in header.items():
            begin, end = e["data_offsets"]
            a = np.frombuffer(data[begin:end], dtype=types[e["dtype"]]).reshape(e["shape"])
            if e["dtype"] == "BF16":
                a = (a.astype("<u4") << 16).view("<f4")
            item = {"dtype": e["dtype"], "shape": list(a.shape)}
            if a.size > 1000:
                flat = a.astype(np.float64).ravel()
                item["sum"] = float(flat.sum())
                item["at"] = [float(flat[i]) for i in (0, 4194303, 4194304, a.size - 1)]
            else:
                item["values"] = a.ravel().tolist()
            out["tensors"][name] = item
        print(json.dumps(out))
        """;

    [Fact]
    public void A_file_written_by_numpy_from_the_spec_is_read_exactly()
    {
        string path = TestData.TempPath("theirs.safetensors");
        NumPyPeer.Run(PythonWriter.Replace("sys.argv[1]", $"r\"{path}\"", StringComparison.Ordinal), Path.GetDirectoryName(path)!);

        var header = SafeTensorsFile.ReadHeader(path);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal("written by numpy", header.Metadata["note"]);
        using var theirs = SafeTensorsFile.Read(path, cancellationToken: Ct);
        using var ours = Sample();
        Assert.Equal(Names, theirs.Keys);
        foreach (var (name, expected) in ours)
        {
            var actual = theirs[name];
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(actual.equal(expected).all().item<bool>(), $"tensor '{name}' differs");
        }
    }

    [Fact]
    public void A_file_we_write_is_read_by_numpy_as_the_spec_says()
    {
        string path = TestData.TempPath("ours.safetensors");
        using var ours = Sample();
        SafeTensorsFile.Write(path, ours, new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "GeoToken.NET ü" }, cancellationToken: Ct);
        string json = NumPyPeer.Run(PythonReader.Replace("sys.argv[1]", $"r\"{path}\"", StringComparison.Ordinal), Path.GetDirectoryName(path)!);

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("GeoToken.NET ü", root.GetProperty("metadata").GetProperty("producer").GetString());
        Assert.Equal(ours.Keys, root.GetProperty("order").EnumerateArray().Select(e => e.GetString()));
        foreach (var (name, t) in ours)
        {
            var item = root.GetProperty("tensors").GetProperty(name);
            Assert.Equal(t.shape, item.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            using var flat = t.to(ScalarType.Float64).flatten();
            double[] expected = flat.data<double>().ToArray();
            if (item.TryGetProperty("values", out var values))
            {
                double[] actual = values.EnumerateArray().Select(v => v.ValueKind switch
                {
                    JsonValueKind.True => 1.0,
                    JsonValueKind.False => 0.0,
                    _ => v.GetDouble(),
                }).ToArray();
                Assert.Equal(expected, actual);
            }
            else
            {
                Assert.Equal(expected.Sum(), item.GetProperty("sum").GetDouble());
                Assert.Equal(new[] { expected[0], expected[ChunkElements - 1], expected[ChunkElements], expected[^1] }, item.GetProperty("at").EnumerateArray().Select(v => v.GetDouble()));
            }
        }

        Assert.Equal(["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL"],
            new[] { "weight.f32", "half", "weight.bf16", "double", "long", "int", "bytes", "bool.mask" }.Select(n => root.GetProperty("tensors").GetProperty(n).GetProperty("dtype").GetString()));
    }

    [Fact]
    public void Round_trip_is_bit_identical_and_writing_is_deterministic()
    {
        string a = TestData.TempPath("a.safetensors"), b = TestData.TempPath("b.safetensors");
        using var ours = Sample();
        string sha = SafeTensorsFile.Write(a, ours, cancellationToken: Ct);
        Assert.Equal(SafeTensorsFile.Sha256(a), sha);
        using (var back = SafeTensorsFile.Read(a, sha, cancellationToken: Ct))
        {
            Assert.Equal(ours.Keys, back.Keys);
            foreach (var (name, t) in ours) Assert.True(back[name].equal(t).all().item<bool>(), name);
            Assert.Equal(sha, SafeTensorsFile.Write(b, back, cancellationToken: Ct));
        }

        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(a));
        Assert.Equal(0UL, n % 8);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(a)!, "*.tmp-*"));
    }

    [Fact]
    public void Writing_refuses_repeated_names_and_unsupported_types()
    {
        string path = TestData.TempPath("x.safetensors");
        using var t = ones(2);
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [KeyValuePair.Create("a", t), KeyValuePair.Create("a", t)], cancellationToken: Ct));
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [KeyValuePair.Create("__metadata__", t)], cancellationToken: Ct));
        using var complex = ones(2, dtype: ScalarType.ComplexFloat32);
        Assert.Contains("'c'", Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [KeyValuePair.Create("c", complex)], cancellationToken: Ct)).Message);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "tensor 'b' at bytes [4, 12) overlaps tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", 20, "tensor 'b' starts at byte 12")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 10, "2 bytes after its last tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 7, "tensor 'a' ends at byte 8 of the data section, which holds 7; the file is truncated")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "tensor 'a' is F32 [3], 12 bytes, but its data_offsets [0, 8] span 8")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "tensor 'a' has data_offsets [8, 0]")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16, "tensor 'a' is listed twice")]
    [InlineData("""{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2, "tensor 'a' has dtype 'F8_E4M3'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"offsets":1}}""", 8, "tensor 'a' has an unknown field 'offsets'")]
    [InlineData("""{"a":{"dtype":"F32","data_offsets":[0,8]}}""", 8, "tensor 'a' lacks shape")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8, "tensor 'a' has shape entry -2")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "tensor 'a' has shape [4611686018427387904, 4], too large")]
    [InlineData("""{"__metadata__":{"x":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, "__metadata__ entry 'x' is a Number")]
    [InlineData("""{"a":[1,2]}""", 0, "tensor 'a' is described by a Array")]
    [InlineData("""{"":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}""", 0, "a tensor with an empty name")]
    [InlineData("""{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}""", 2, "BOOL tensor 'a' holds a byte other than 0 or 1")]
    [InlineData("""["a"]""", 0, "does not start with '{'")]
    [InlineData("""{"a":{"dtype":"F32",""", 0, "malformed JSON header")]
    public void Malformed_files_are_refused_naming_the_file_and_the_tensor(string header, int dataLength, string expected)
    {
        string path = TestData.TempPath("bad.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length).Fill(2);
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path, cancellationToken: Ct).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Header_lengths_are_bounded_before_anything_is_allocated()
    {
        string path = TestData.TempPath("len.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("at most 100000000 bytes", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path, cancellationToken: Ct)).Message);

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 57);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("declares a 57-byte header but holds 64 bytes", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path, cancellationToken: Ct)).Message);

        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("holds 5 bytes", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.ReadHeader(path)).Message);
    }

    [Fact]
    public void A_flipped_byte_anywhere_fails_the_checksum()
    {
        string path = TestData.TempPath("sum.safetensors");
        using var t = arange(100, dtype: ScalarType.Float32);
        string sha = SafeTensorsFile.Write(path, [KeyValuePair.Create("t", t)], cancellationToken: Ct);
        byte[] good = File.ReadAllBytes(path);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(good);

        foreach (int at in new[] { good.Length - 3, headerEnd + 1, 8 })
        {
            var bad = (byte[])good.Clone();
            bad[at] ^= 0x10;
            File.WriteAllBytes(path, bad);
            var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path, sha, cancellationToken: Ct));
            Assert.Contains(path, e.Message);
            Assert.Contains($"expected SHA-256 {sha}", e.Message);
        }

        // Without a checksum a flip in the data reads (safetensors has none of its own); in the header it is a format error.
        File.WriteAllBytes(path, good);
        SafeTensorsFile.Read(path, sha, cancellationToken: Ct).Dispose();
    }

    [Fact]
    public void Any_byte_string_parses_or_throws_InvalidDataException()
    {
        using var t1 = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var t2 = tensor(new[] { true, false });
        string path = TestData.TempPath("seed.safetensors");
        SafeTensorsFile.Write(path, [KeyValuePair.Create("w", t1), KeyValuePair.Create("m", t2)], new Dictionary<string, string> { ["k"] = "v" }, cancellationToken: Ct);
        byte[] seed = File.ReadAllBytes(path);

        // Mutations of a valid file: flipped and replaced bytes, truncation, a forged header length.
        var mutated = Gen.Select(Gen.Int[0, seed.Length - 1].Array[0, 6], Gen.Byte.Array[6], Gen.Int[0, seed.Length], Gen.Bool, Gen.ULong,
            (positions, values, keep, forge, length) =>
            {
                var b = (byte[])seed.Clone();
                for (int i = 0; i < positions.Length; i++) b[positions[i]] = values[i];
                if (forge) BinaryPrimitives.WriteUInt64LittleEndian(b, length % 512);
                return b[..keep];
            });
        // Headers assembled from safetensors tokens, with a correct length prefix and random data.
        string[] tokens = ["{", "}", "[", "]", ",", ":", "\"a\"", "\"b\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
            "\"F32\"", "\"BOOL\"", "\"I64\"", "0", "1", "2", "8", "-1", "1e3", "null", "true", "\"\\u00ff\"", " "];
        var assembled = Gen.Select(Gen.Int[0, tokens.Length - 1].Select(i => tokens[i]).Array[1, 40], Gen.Byte.Array[0, 24], (parts, data) =>
        {
            byte[] json = Encoding.UTF8.GetBytes(string.Concat(parts));
            var b = new byte[8 + json.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)json.Length);
            json.CopyTo(b, 8);
            data.CopyTo(b, 8 + json.Length);
            return b;
        });

        Gen.OneOf(mutated, assembled, Gen.Byte.Array[0, 40]).Sample(bytes =>
        {
            try
            {
                using var stream = new MemoryStream(bytes);
                SafeTensorsFile.Read(stream, "fuzz", null, Ct).Dispose();
            }
            catch (InvalidDataException)
            {
            }
        }, iter: 3000);
    }
}

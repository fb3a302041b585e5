using System.Text;
using System.Text.Json.Nodes;
using GeoToken.IO;
using GeoToken.IO.Pickle;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.IO;

/// <summary>
/// PyTorchCheckpoint against real torch.save output (benchmarks/peers/torch_checkpoint_cases.py, PyTorch 1.13), the real
/// GeoCLIP weights, torch.load of what we write, and hostile or broken files.
/// </summary>
public class PyTorchCheckpointTests
{
    private static readonly string GeoClipPath = Path.Combine(AppContext.BaseDirectory, "TestData", "geoclip", "image_encoder_mlp_weights.pth");

    [Theory]
    [InlineData("plain")]
    [InlineData("module")]
    [InlineData("parameters")]
    [InlineData("nested")]
    [InlineData("protocol4")]
    public void Reads_torch_save_output_with_its_dtypes_views_and_values(string name)
    {
        string dir = Cases();
        var (info, expected) = Expected(Path.Combine(dir, "expected.bin"));
        using var sd = Read(Path.Combine(dir, $"{name}.pth"));
        var names = info.Select(kv => kv.Key).Where(k => k.StartsWith(name + "/", StringComparison.Ordinal)).ToList();
        Assert.Equal(names.Select(n => n[(name.Length + 1)..]), sd.Keys);
        foreach (var full in names)
        {
            var t = sd[full[(name.Length + 1)..]];
            var meta = info[full]!.AsObject();
            Assert.Equal((string)meta["dtype"]!, TorchName(t.dtype));
            Assert.Equal(Longs(meta["shape"]), t.shape);
            Assert.Equal(Longs(meta["stride"]), t.stride());
            using var values = t.to(ScalarType.Float64);
            Assert.True(SameValues(values, expected[full]), $"{full} differs from torch.load's values");
        }

        foreach (var t in expected.Values) t.Dispose();
    }

    [Fact]
    public void Tensors_that_shared_a_storage_share_memory()
    {
        using var sd = Read(Path.Combine(Cases(), "plain.pth"));
        Assert.Equal(6, sd["shared_b"].storage_offset());
        sd["shared_a"][1, 2] = tensor(100f);
        Assert.Equal(100f, sd["shared_b"][2].item<float>());
        Assert.Equal(0, sd["expanded"].stride()[0]);
    }

    [Fact]
    public void A_checkpoint_with_several_dicts_of_tensors_needs_a_key_path()
    {
        string path = Path.Combine(Cases(), "ambiguous.pth");
        var e = Assert.Throws<InvalidDataException>(() => Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("['model']", e.Message, StringComparison.Ordinal);
        Assert.Contains("['optimizer']", e.Message, StringComparison.Ordinal);
        Assert.Contains("KeyPath", e.Message, StringComparison.Ordinal);

        using var sd = Read(path, new PyTorchCheckpointOptions { KeyPath = ["model"] });
        Assert.Equal(["weight", "bias"], sd.Keys);

        var missing = Assert.Throws<InvalidDataException>(() => Read(path, new PyTorchCheckpointOptions { KeyPath = ["state_dict"] }));
        Assert.Contains("no key 'state_dict'", missing.Message, StringComparison.Ordinal);
        var notTensors = Assert.Throws<InvalidDataException>(() => Read(Path.Combine(Cases(), "nested.pth"), new PyTorchCheckpointOptions { KeyPath = [] }));
        Assert.Contains("entry 'state_dict' of the state dict (the saved object) is not a tensor", notTensors.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_the_GeoCLIP_image_encoder_exactly_as_torch_load_does()
    {
        Assert.True(File.Exists(GeoClipPath), $"{GeoClipPath} is missing (the test project copies TestData to its output).");
        string outPath = TestData.TempPath("geoclip.bin");
        PythonPeer.Run("torch_checkpoint_cases.py", "load", "--path", GeoClipPath, "--out", outPath);
        var (_, expected) = Expected(outPath);
        using var sd = Read(GeoClipPath);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], sd.Keys);
        Assert.Equal([768L, 768], sd["0.weight"].shape);
        Assert.Equal([512L, 768], sd["2.weight"].shape);
        foreach (var (name, t) in sd)
        {
            Assert.Equal(ScalarType.Float32, t.dtype);
            using var values = t.to(ScalarType.Float64);
            Assert.True(SameValues(values, expected[name]), $"{name} differs from torch.load's values");
        }

        foreach (var t in expected.Values) t.Dispose();
    }

    [Fact]
    public void Writes_files_that_torch_load_reads_and_that_read_back_bit_identical()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("layer.weight", randn([5, 3], generator: g)),
            new("transposed", randn([4, 6], generator: g).t()),
            new("half", randn([2, 3], generator: g).to(ScalarType.Float16)),
            new("bfloat", randn([3], generator: g).to(ScalarType.BFloat16)),
            new("double", randn([2], generator: g, dtype: ScalarType.Float64)),
            new("count", tensor(new long[] { (1L << 40) + 3, -7 })),
            new("mask", tensor(new[] { true, false })),
            new("scalar", tensor(2.5f)),
            new("empty", zeros([0, 3])),
            new("big.index", arange(70000L)),
        };
        string path = TestData.TempPath("ours.pth"), outPath = TestData.TempPath("loaded.bin");
        PyTorchCheckpoint.Write(path, tensors);

        PythonPeer.Run("torch_checkpoint_cases.py", "load", "--path", path, "--out", outPath);
        var header = TensorFile.ReadHeader(outPath).Header;
        var (info, loaded) = Expected(outPath);
        Assert.Equal(tensors.Select(t => t.Key), header["order"]!.AsArray().Select(n => (string)n!));
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(TorchName(t.dtype), (string)info[name]!["dtype"]!);
            Assert.Equal(t.shape, Longs(info[name]!["shape"]));
            Assert.True(SameValues(t.to(ScalarType.Float64), loaded[name]), $"torch.load read other values for {name}");
        }

        using var back = Read(path);
        Assert.Equal(tensors.Select(t => t.Key), back.Keys);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, back[name].dtype);
            Assert.True(Same(t, back[name]), $"{name} did not read back identically");
        }

        foreach (var t in loaded.Values) t.Dispose();
    }

    [Theory]
    [InlineData("system.pth", "posix.system")]
    [InlineData("eval.pth", "__builtin__.eval")] // protocol 2 spells builtins as __builtin__
    public void Refuses_pickles_that_would_run_code_and_runs_none(string file, string global)
    {
        string dir = Path.GetDirectoryName(TestData.TempPath("x"))!;
        PythonPeer.Run("torch_checkpoint_cases.py", "evil", "--dir", dir);
        string path = Path.Combine(dir, file);
        var e = Assert.Throws<InvalidDataException>(() => Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{global}'", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "pwned")));
    }

    [Theory]
    [InlineData("os.system", false)]
    [InlineData("builtins.exec", true)]
    [InlineData("torch.storage._load_from_bytes", false)]
    [InlineData("subprocess.Popen", true)]
    public void Refuses_crafted_globals(string global, bool stackGlobal)
    {
        int dot = global.LastIndexOf('.');
        var p = new List<byte> { 0x80, (byte)(stackGlobal ? 4 : 2) };
        if (stackGlobal)
        {
            p.AddRange(ShortUnicode(global[..dot]));
            p.AddRange(ShortUnicode(global[(dot + 1)..]));
            p.Add(0x93); // STACK_GLOBAL
        }
        else
        {
            p.Add(0x63);
            p.AddRange(Encoding.ASCII.GetBytes($"{global[..dot]}\n{global[(dot + 1)..]}\n"));
        }

        p.AddRange(ShortUnicode("touch /tmp/never"));
        p.AddRange([0x85, 0x52, 0x2e]); // TUPLE1, REDUCE, STOP
        string path = Archive([.. p]);
        var e = Assert.Throws<InvalidDataException>(() => Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{global}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_calling_an_allowed_name_that_is_not_a_constructor_and_unknown_opcodes()
    {
        // GLOBAL torch.FloatStorage, EMPTY_TUPLE, REDUCE: storage classes are data here, never called.
        var call = new List<byte> { 0x80, 2, 0x63 };
        call.AddRange(Encoding.ASCII.GetBytes("torch\nFloatStorage\n"));
        call.AddRange([0x29, 0x52, 0x2e]);
        string path = Archive([.. call]);
        var e = Assert.Throws<InvalidDataException>(() => Read(path));
        Assert.Contains("'torch.FloatStorage'", e.Message, StringComparison.Ordinal);
        Assert.Contains("not a constructor", e.Message, StringComparison.Ordinal);

        // INST (protocol 0 object construction) is not supported at all.
        var inst = new List<byte> { 0x28, 0x69 };
        inst.AddRange(Encoding.ASCII.GetBytes("os\nsystem\n"));
        inst.Add(0x2e);
        var e2 = Assert.Throws<InvalidDataException>(() => Read(Archive([.. inst])));
        Assert.Contains("opcode 0x69", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_truncated_archive_a_storage_bigger_than_its_entry_and_a_view_outside_its_storage()
    {
        string source = Path.Combine(Cases(), "plain.pth");
        byte[] bytes = File.ReadAllBytes(source);
        string truncated = TestData.TempPath("truncated.pth");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Read(truncated));
        Assert.Contains(truncated, e.Message, StringComparison.Ordinal);

        string tooBig = Archive(StateDictPickler.Pickle([new("w", "FloatStorage", "0", 1_000_000_000, [1_000_000_000])]), ("data/0", new byte[8]));
        var e2 = Assert.Throws<InvalidDataException>(() => Read(tooBig));
        Assert.Contains("storage '0' declares 1000000000", e2.Message, StringComparison.Ordinal);
        Assert.Contains("holds 8", e2.Message, StringComparison.Ordinal);

        // Two elements in the storage, but the tensor claims ten.
        var pickle = StateDictPickler.Pickle([new("w", "FloatStorage", "0", 2, [10])]);
        var e3 = Assert.Throws<InvalidDataException>(() => Read(Archive(pickle, ("data/0", new byte[8]))));
        Assert.Contains("does not fit in its storage '0'", e3.Message, StringComparison.Ordinal);

        string legacy = TestData.TempPath("legacy.pth");
        File.WriteAllBytes(legacy, [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
        var e4 = Assert.Throws<InvalidDataException>(() => Read(legacy));
        Assert.Contains("legacy", e4.Message, StringComparison.Ordinal);
    }

    // The peer's container stores 0-d arrays as [1] (numpy.ascontiguousarray), so shapes are checked from its header.
    private static bool SameValues(Tensor a, Tensor b) => a.numel() == b.numel() && a.reshape(-1).eq(b.reshape(-1)).all().item<bool>();

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static StateDict Read(string path, PyTorchCheckpointOptions? options = null) =>
        PyTorchCheckpoint.Read(path, options, TestContext.Current.CancellationToken);

    private static string? _cases;

    /// <summary>The torch.save cases, generated once per test run.</summary>
    private static string Cases()
    {
        if (_cases is not null) return _cases;
        string dir = Path.GetDirectoryName(TestData.TempPath("x"))!;
        PythonPeer.Run("torch_checkpoint_cases.py", "cases", "--dir", dir);
        return _cases = dir;
    }

    private static (JsonObject Info, Dictionary<string, Tensor> Values) Expected(string path)
    {
        var contents = TensorFile.ReadHeader(path);
        return (contents.Header["tensors_info"]!.AsObject(), TensorFile.ReadTensors(contents, contents.Tensors.Keys));
    }

    private static long[] Longs(JsonNode? array) => array!.AsArray().Select(n => (long)n!).ToArray();

    private static string TorchName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Int64 => "int64",
        ScalarType.Int32 => "int32",
        ScalarType.Byte => "uint8",
        ScalarType.Bool => "bool",
        _ => t.ToString(),
    };

    private static byte[] ShortUnicode(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        return [0x8c, (byte)b.Length, .. b];
    }

    /// <summary>A torch.save-like archive holding <paramref name="pickle"/> as archive/data.pkl and the given entries under archive/.</summary>
    private static string Archive(byte[] pickle, params (string Name, byte[] Data)[] entries)
    {
        string path = TestData.TempPath("crafted.pth");
        using var stream = File.Create(path);
        var zip = new StoredZipWriter(stream);
        zip.Add("archive/data.pkl", pickle);
        foreach (var (name, data) in entries) zip.Add($"archive/{name}", data);
        zip.Add("archive/version", "3\n"u8);
        zip.Finish();
        return path;
    }
}

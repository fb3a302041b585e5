using System.Buffers.Binary;
using System.Text;
using GeoToken.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Model;

public class GeoTokenModelFileTests
{
    private static GeoTokenModel NewModel(GeoTokenModelOptions? options = null, long seed = 5)
    {
        random.manual_seed(seed);
        return new GeoTokenModel(options ?? TestData.Micro(NormOrder.Pre, ContextLayout.Paper));
    }

    [Fact]
    public void Round_trip_keeps_options_weights_and_outputs()
    {
        string path = TestData.TempPath("m.gtm");
        using var model = NewModel();
        model.eval();
        GeoTokenModelFile.Save(model, path);

        using var loaded = GeoTokenModelFile.Load(path, CPU);
        loaded.eval();
        Assert.Equal(model.Options, loaded.Options);
        var a = model.state_dict();
        var b = loaded.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, t) in a) Assert.True(t.equal(b[name]).all().item<bool>(), name);

        using var batch = TestData.Batch(model.Options, 2);
        using var scope = NewDisposeScope();
        var x = model.Forward(batch);
        var y = loaded.Forward(batch);
        for (int p = 0; p < x.Length; p++) Assert.True(x[p].equal(y[p]).all().item<bool>());
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));
    }

    [Theory]
    [InlineData("m.gtm")]
    [InlineData("model-folder")]
    public void Loading_does_not_consume_torchs_random_numbers(string name)
    {
        string path = TestData.TempPath(name);
        using (var model = NewModel()) GeoTokenModelFile.Save(model, path);
        random.manual_seed(123);
        float expected = rand(1).item<float>();
        random.manual_seed(123);
        using var loaded = GeoTokenModelFile.Load(path);
        Assert.Equal(expected, rand(1).item<float>());
    }

    [Theory]
    [InlineData("m.gtm")]
    [InlineData("model-folder")]
    public void Saving_replaces_an_existing_model(string name)
    {
        string path = TestData.TempPath(name);
        using var m1 = NewModel(seed: 1);
        using var m2 = NewModel(seed: 2);
        GeoTokenModelFile.Save(m1, path);
        GeoTokenModelFile.Save(m2, path);
        using var loaded = GeoTokenModelFile.Load(path);
        Assert.True(loaded.state_dict()["cls_token"].equal(m2.state_dict()["cls_token"]).all().item<bool>());
    }

    [Fact]
    public void Another_configuration_is_refused_with_every_difference_named()
    {
        string path = TestData.TempPath("m.gtm");
        using var model = NewModel();
        GeoTokenModelFile.Save(model, path);
        var other = model.Options with { ModelDimension = 64, NormOrder = NormOrder.Post };

        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(path, other));
        Assert.Contains("another model configuration", e.Message);
        Assert.Contains("ModelDimension: 32 ≠ 64", e.Message);
        Assert.Contains("NormOrder: Pre ≠ Post", e.Message);

        using var target = new GeoTokenModel(other);
        e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.LoadInto(target, path));
        Assert.Contains("ModelDimension: 32 ≠ 64", e.Message);

        using var same = new GeoTokenModel(model.Options);
        GeoTokenModelFile.LoadInto(same, path);
        Assert.True(same.state_dict()["heads.0.weight"].equal(model.state_dict()["heads.0.weight"]).all().item<bool>());
    }

    [Fact]
    public void Another_format_version_is_refused()
    {
        string path = TestData.TempPath("m.gtm");
        using (var model = NewModel()) GeoTokenModelFile.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 2);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(path));
        Assert.Contains("format version 2; this library reads version 1", e.Message);
    }

    [Fact]
    public void Foreign_truncated_and_tampered_files_are_refused_with_the_path()
    {
        string path = TestData.TempPath("m.gtm");
        File.WriteAllText(path, "PK\u0003\u0004 certainly not a model");
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(path));
        Assert.Contains("not a GeoToken model file", e.Message);
        Assert.Contains(path, e.Message);

        using (var model = NewModel()) GeoTokenModelFile.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(path));
        Assert.Contains("truncated", e.Message);

        // A header whose tokenizer section contradicts its options (same length, so offsets stay valid).
        var tampered = (byte[])bytes.Clone();
        int at = tampered.AsSpan().IndexOf("\"groupSize\": 2,\n    \"length\""u8);
        Assert.True(at > 0);
        "\"groupSize\": 3"u8.CopyTo(tampered.AsSpan(at));
        File.WriteAllBytes(path, tampered);
        e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(path));
        Assert.Contains("tokenizer section", e.Message);
    }

    [Fact]
    public void Header_is_json_describing_options_tokenizer_and_tensors()
    {
        string path = TestData.TempPath("m.gtm");
        using var model = NewModel();
        GeoTokenModelFile.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("GEOTOKEN"u8.ToArray(), bytes[..8]);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        var header = System.Text.Json.Nodes.JsonNode.Parse(bytes.AsSpan(24, (int)headerLength))!;
        Assert.Equal("model", (string?)header["kind"]);
        Assert.Equal("Pre", (string?)header["model"]!["normOrder"]);
        Assert.Equal(6, (int)header["tokenizer"]!["length"]!);
        var tensors = header["tensors"]!.AsArray();
        Assert.Equal(model.state_dict().Count, tensors.Count);
        Assert.All(tensors, t => Assert.Equal(0, (long)t!["offset"]! % 64));
        Assert.Equal(model.ParameterCount, (long)header["parameterCount"]!);
        Assert.Equal(model.Options, GeoTokenModelFile.ReadOptions(path));
    }

    [Fact]
    public void A_non_finite_weight_in_a_gtm_file_is_refused_naming_the_tensor()
    {
        // Written that way (its data checksum agrees): the finiteness check, not the checksum, must refuse it.
        string path = TestData.TempPath("m.gtm");
        using (var model = NewModel())
        {
            using (no_grad()) model.state_dict()["heads.1.weight"].view(-1)[5].fill_(float.PositiveInfinity);
            GeoTokenModelFile.Save(model, path);
        }

        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("tensor 'model.heads.1.weight' has 1 non-finite value(s), the first Infinity at flat index 5", e.Message);
    }
}

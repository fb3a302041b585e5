using System.Text.Json.Nodes;
using GeoToken.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Model;

/// <summary>Models as folders (config.json + model.safetensors) through <see cref="GeoTokenModelFile"/>.</summary>
public class GeoTokenModelFolderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GeoTokenModel NewModel(bool copy = true, long seed = 5)
    {
        random.manual_seed(seed);
        return new GeoTokenModel(TestData.Micro(NormOrder.Pre, ContextLayout.Paper, copy: copy));
    }

    private static string SavedFolder(GeoTokenModel? model = null)
    {
        string dir = TestData.TempPath("model");
        if (model is not null)
        {
            GeoTokenModelFile.Save(model, dir);
        }
        else
        {
            using var m = NewModel();
            GeoTokenModelFile.Save(m, dir);
        }

        return dir;
    }

    private static void AssertSameWeights(GeoTokenModel a, GeoTokenModel b)
    {
        var x = a.state_dict();
        var y = b.state_dict();
        Assert.Equal(x.Keys, y.Keys);
        foreach (var (name, t) in x) Assert.True(t.equal(y[name]).all().item<bool>(), name);
    }

    private static void AssertSameLogits(GeoTokenModel a, GeoTokenModel b)
    {
        a.eval();
        b.eval();
        using var batch = TestData.Batch(a.Options, 3, seed: 4);
        using var scope = NewDisposeScope();
        var x = a.Forward(batch);
        var y = b.Forward(batch);
        for (int p = 0; p < x.Length; p++) Assert.True(x[p].equal(y[p]).all().item<bool>(), $"logits at position {p}");
    }

    /// <summary>Rewrites the folder's weights through <paramref name="edit"/> and records the new SHA-256, as a tool that knows the format would.</summary>
    private static void RewriteWeights(string dir, Func<StateDict, IEnumerable<KeyValuePair<string, Tensor>>> edit)
    {
        string weights = Path.Combine(dir, "model.safetensors"), configPath = Path.Combine(dir, "config.json");
        string sha;
        using (var state = SafeTensorsFile.Read(weights, cancellationToken: Ct)) sha = SafeTensorsFile.Write(weights, edit(state).ToList(), cancellationToken: Ct);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["weights"]!["sha256"] = sha;
        File.WriteAllText(configPath, config.ToJsonString());
    }

    private static void EditConfig(string dir, Action<JsonNode> edit)
    {
        string configPath = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        edit(config);
        File.WriteAllText(configPath, config.ToJsonString());
    }

    [Fact]
    public void A_folder_round_trips_options_weights_and_logits_bit_identically()
    {
        using var model = NewModel();
        string dir = SavedFolder(model);
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Single(Directory.GetFileSystemEntries(Path.GetDirectoryName(dir)!)); // no temporary folder left behind

        foreach (string path in new[] { dir, Path.Combine(dir, "config.json"), Path.Combine(dir, "model.safetensors"), dir + Path.DirectorySeparatorChar })
        {
            using var loaded = GeoTokenModelFile.Load(path, CPU);
            Assert.Equal(model.Options, loaded.Options);
            AssertSameWeights(model, loaded);
            AssertSameLogits(model, loaded);
        }

        Assert.Equal(model.Options, GeoTokenModelFile.ReadOptions(dir));
        using var same = new GeoTokenModel(model.Options);
        GeoTokenModelFile.LoadInto(same, dir);
        AssertSameWeights(model, same);
    }

    [Fact]
    public void The_folder_holds_the_state_dict_the_position_table_and_a_config_describing_them()
    {
        using var model = NewModel();
        string dir = SavedFolder(model);
        using var weights = SafeTensorsFile.Read(Path.Combine(dir, "model.safetensors"), cancellationToken: Ct);
        Assert.Equal(model.state_dict().Keys.Append("positional_encoding"), weights.Keys);
        using var table = model.GetPositionalEncoding();
        Assert.True(weights["positional_encoding"].equal(table).all().item<bool>());
        Assert.Equal("pt", SafeTensorsFile.ReadHeader(Path.Combine(dir, "model.safetensors")).Metadata["format"]);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal("geotoken-model", (string?)config["format"]);
        Assert.Equal(1, (int)config["formatVersion"]!);
        Assert.Equal("model", (string?)config["kind"]);
        Assert.Equal("Pre", (string?)config["model"]!["normOrder"]);
        Assert.Equal(6, (int)config["tokenizer"]!["length"]!);
        Assert.Equal(model.ParameterCount, (long)config["parameterCount"]!);
        Assert.Equal("model.safetensors", (string?)config["weights"]!["file"]);
        Assert.Equal(SafeTensorsFile.Sha256(Path.Combine(dir, "model.safetensors")), (string?)config["weights"]!["sha256"]);
    }

    [Fact]
    public void An_old_gtm_file_still_loads_and_matches_its_converted_folder()
    {
        using var model = NewModel();
        string gtm = TestData.TempPath("old.gtm");
        GeoTokenModelFile.Save(model, gtm);
        Assert.True(File.Exists(gtm));

        using var old = GeoTokenModelFile.Load(gtm);
        string dir = TestData.TempPath("converted");
        GeoTokenModelFile.Save(old, dir);
        using var converted = GeoTokenModelFile.Load(dir);
        AssertSameWeights(old, converted);
        AssertSameLogits(old, converted);
        AssertSameLogits(model, converted);
    }

    [Fact]
    public void A_file_in_the_way_of_a_folder_is_refused_and_left_alone()
    {
        using var m1 = NewModel(seed: 1);
        string file = TestData.TempPath("not-a-folder");
        File.WriteAllText(file, "keep me");
        Assert.Contains("is a file", Assert.Throws<IOException>(() => GeoTokenModelFile.Save(m1, file)).Message);
        Assert.Equal("keep me", File.ReadAllText(file));

        string missing = TestData.TempPath("nothing-here");
        Assert.Contains("neither a model folder", Assert.Throws<FileNotFoundException>(() => GeoTokenModelFile.Load(missing)).Message);
    }

    [Fact]
    public void A_flipped_byte_in_the_weights_fails_the_checksum_naming_the_file()
    {
        string dir = SavedFolder();
        string weights = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^5] ^= 0x01;
        File.WriteAllBytes(weights, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains(weights, e.Message);
        Assert.Contains("SHA-256", e.Message);
    }

    [Fact]
    public void A_truncated_weights_file_is_refused_naming_the_file()
    {
        string dir = SavedFolder();
        string weights = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains(weights, e.Message);
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_nan_weight_is_refused_naming_the_tensor()
    {
        string dir = SavedFolder();
        RewriteWeights(dir, state => state.Select(kv =>
        {
            if (kv.Key != "decoder.layers.1.ffn.fc1.weight") return kv;
            var t = kv.Value.clone();
            t[3, 7] = float.NaN;
            return KeyValuePair.Create(kv.Key, t);
        }));
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains("tensor 'decoder.layers.1.ffn.fc1.weight' has 1 non-finite value(s), the first NaN at flat index 103", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void Wrong_missing_and_unknown_tensors_are_refused_by_name()
    {
        string dir = SavedFolder();
        RewriteWeights(dir, state => state.Select(kv => kv.Key == "heads.2.bias" ? KeyValuePair.Create(kv.Key, zeros(17)) : kv));
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains("tensor 'heads.2.bias' is Float32 [17]; expected floating point [16]", e.Message);

        dir = SavedFolder();
        RewriteWeights(dir, state => state.Where(kv => kv.Key != "cls_token").Append(KeyValuePair.Create("extra.weight", zeros(2))));
        e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains("missing tensors: cls_token", e.Message);
        Assert.Contains("unknown tensors: extra.weight", e.Message);

        dir = SavedFolder();
        RewriteWeights(dir, state => state.Select(kv => kv.Key == "positional_encoding" ? KeyValuePair.Create(kv.Key, kv.Value + 0.5f) : kv));
        e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains("tensor 'positional_encoding' is not this model's position table", e.Message);

        // Without the position table the model keeps its own (the table is optional for importers).
        dir = SavedFolder();
        RewriteWeights(dir, state => state.Where(kv => kv.Key != "positional_encoding"));
        using var loaded = GeoTokenModelFile.Load(dir);
        using var model = NewModel();
        AssertSameLogits(model, loaded);
    }

    [Fact]
    public void A_config_that_does_not_describe_the_weights_is_refused()
    {
        string dir = SavedFolder();
        EditConfig(dir, c => c["formatVersion"] = 2);
        Assert.Contains("format version 2; this library reads version 1", Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir)).Message);

        dir = SavedFolder();
        EditConfig(dir, c => c["model"]!["modelDimension"] = 64);
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains("records", e.Message); // parameter count no longer matches the options

        dir = SavedFolder();
        EditConfig(dir, c => c["weights"]!["file"] = "../elsewhere.safetensors");
        Assert.Contains("is not a file name in the model folder", Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir)).Message);

        dir = SavedFolder();
        EditConfig(dir, c => c["learningRate"] = 1);
        Assert.Contains("unknown field(s) learningRate", Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir)).Message);

        dir = SavedFolder();
        EditConfig(dir, c => c["parameterCount"] = "many");
        e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir));
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);

        dir = SavedFolder();
        using var model = NewModel();
        var other = model.Options with { ModelDimension = 64 };
        Assert.Contains("ModelDimension: 32 ≠ 64", Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir, other)).Message);
    }

    [Fact]
    public void Half_precision_weights_written_by_another_tool_are_widened_to_float32()
    {
        using var model = NewModel();
        string dir = SavedFolder(model);
        RewriteWeights(dir, state => state.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.to(ScalarType.BFloat16))));
        using var loaded = GeoTokenModelFile.Load(dir);
        foreach (var (name, t) in model.state_dict())
        {
            using var expected = t.to(ScalarType.BFloat16).to(ScalarType.Float32);
            Assert.Equal(ScalarType.Float32, loaded.state_dict()[name].dtype);
            Assert.True(loaded.state_dict()[name].equal(expected).all().item<bool>(), name);
        }
    }
}

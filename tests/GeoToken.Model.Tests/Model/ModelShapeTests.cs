using System.Text.RegularExpressions;

namespace GeoToken.Model.Tests.Model;

/// <summary>Pins every parameter's name (state-dict key) and shape for each preset: renaming or reshaping a weight breaks saved models.</summary>
public partial class ModelShapeTests
{
    public static TheoryData<string, string, long> Presets => new()
    {
        { "paper", PaperTable, 54_797_478 },
        { "small", SmallTable, 6_319_542 },
        { "tiny", TinyTable, 1_104_694 },
    };

    [Theory]
    [MemberData(nameof(Presets))]
    public void Parameters_have_the_pinned_names_shapes_and_count(string preset, string table, long expectedCount)
    {
        using var model = new GeoTokenModel(GeoTokenModelOptions.FromPreset(preset));
        AssertMatches(Expand(table), model);
        Assert.Equal(expectedCount, model.ParameterCount);
    }

    [Fact]
    public void Pre_norm_adds_a_final_norm_to_encoder_and_decoder()
    {
        var expected = Expand(TinyTable);
        foreach (var stack in new[] { "encoder", "decoder" })
        {
            expected[$"{stack}.norm.weight"] = [128];
            expected[$"{stack}.norm.bias"] = [128];
        }

        using var model = new GeoTokenModel(GeoTokenModelOptions.Tiny with { NormOrder = NormOrder.Pre });
        AssertMatches(expected, model);
    }

    [Fact]
    public void Neighbor_copy_is_on_for_the_cpu_presets_and_off_for_the_paper_one()
    {
        Assert.False(GeoTokenModelOptions.Paper.NeighborCopy);
        Assert.True(GeoTokenModelOptions.Small.NeighborCopy);
        Assert.True(GeoTokenModelOptions.Tiny.NeighborCopy);
        var expected = Expand(TinyTable);
        foreach (var name in expected.Keys.Where(n => n.StartsWith("copy_head.", StringComparison.Ordinal)).ToList()) expected.Remove(name);
        using var model = new GeoTokenModel(GeoTokenModelOptions.Tiny with { NeighborCopy = false });
        AssertMatches(expected, model);
        Assert.Throws<ArgumentException>(() => (GeoTokenModelOptions.Tiny with { NeighborCount = 0 }).Validate());
    }

    [Fact]
    public void Paper_preset_has_about_55_million_parameters_and_214_encoder_positions()
    {
        Assert.Equal(11, GeoTokenModelOptions.Paper.SequenceLength);
        Assert.Equal(214, GeoTokenModelOptions.Paper.ContextLength);
        Assert.Equal(19, GeoTokenModelOptions.Small.ContextLength);
    }

    [Fact]
    public void Positional_tables_and_token_offsets_are_not_saved()
    {
        using var model = new GeoTokenModel(GeoTokenModelOptions.Tiny);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Equal(model.named_parameters().Select(p => p.name).ToHashSet(), keys);
    }

    private static void AssertMatches(Dictionary<string, long[]> expected, GeoTokenModel model)
    {
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        var missing = expected.Keys.Except(actual.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var extra = actual.Keys.Except(expected.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing: [{string.Join(", ", missing)}]; unexpected: [{string.Join(", ", extra)}]");
        foreach (var (name, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(actual[name]), $"{name}: expected [{string.Join(", ", shape)}], got [{string.Join(", ", actual[name])}]");
        }
    }

    /// <summary>Parses "name shape" lines; "{a..b}" in a name expands to every index in a..b; shapes are "AxB".</summary>
    private static Dictionary<string, long[]> Expand(string table)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var raw in table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = raw.Split(' ');
            long[] shape = parts[1].Split('x').Select(long.Parse).ToArray();
            var m = RangePattern().Match(parts[0]);
            if (!m.Success)
            {
                result.Add(parts[0], shape);
                continue;
            }

            for (int i = int.Parse(m.Groups[1].Value); i <= int.Parse(m.Groups[2].Value); i++)
            {
                result.Add(parts[0].Replace(m.Value, i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), shape);
            }
        }

        return result;
    }

    [GeneratedRegex(@"\{(\d+)\.\.(\d+)\}")]
    private static partial Regex RangePattern();

    private const string PaperTable = """
        cls_token 512
        start_token 512
        projections.{0..2}.fc1.weight 512x768
        projections.{0..2}.fc1.bias 512
        projections.{0..2}.fc2.weight 512x512
        projections.{0..2}.fc2.bias 512
        context_token_embedding.weight 166x512
        encoder.layers.{0..9}.self_attn.q_proj.weight 512x512
        encoder.layers.{0..9}.self_attn.q_proj.bias 512
        encoder.layers.{0..9}.self_attn.k_proj.weight 512x512
        encoder.layers.{0..9}.self_attn.k_proj.bias 512
        encoder.layers.{0..9}.self_attn.v_proj.weight 512x512
        encoder.layers.{0..9}.self_attn.v_proj.bias 512
        encoder.layers.{0..9}.self_attn.out_proj.weight 512x512
        encoder.layers.{0..9}.self_attn.out_proj.bias 512
        encoder.layers.{0..9}.self_attn_norm.weight 512
        encoder.layers.{0..9}.self_attn_norm.bias 512
        encoder.layers.{0..9}.ffn.fc1.weight 1024x512
        encoder.layers.{0..9}.ffn.fc1.bias 1024
        encoder.layers.{0..9}.ffn.fc2.weight 512x1024
        encoder.layers.{0..9}.ffn.fc2.bias 512
        encoder.layers.{0..9}.ffn_norm.weight 512
        encoder.layers.{0..9}.ffn_norm.bias 512
        token_embedding.weight 166x512
        decoder.layers.{0..9}.self_attn.q_proj.weight 512x512
        decoder.layers.{0..9}.self_attn.q_proj.bias 512
        decoder.layers.{0..9}.self_attn.k_proj.weight 512x512
        decoder.layers.{0..9}.self_attn.k_proj.bias 512
        decoder.layers.{0..9}.self_attn.v_proj.weight 512x512
        decoder.layers.{0..9}.self_attn.v_proj.bias 512
        decoder.layers.{0..9}.self_attn.out_proj.weight 512x512
        decoder.layers.{0..9}.self_attn.out_proj.bias 512
        decoder.layers.{0..9}.self_attn_norm.weight 512
        decoder.layers.{0..9}.self_attn_norm.bias 512
        decoder.layers.{0..9}.cross_attn.q_proj.weight 512x512
        decoder.layers.{0..9}.cross_attn.q_proj.bias 512
        decoder.layers.{0..9}.cross_attn.k_proj.weight 512x512
        decoder.layers.{0..9}.cross_attn.k_proj.bias 512
        decoder.layers.{0..9}.cross_attn.v_proj.weight 512x512
        decoder.layers.{0..9}.cross_attn.v_proj.bias 512
        decoder.layers.{0..9}.cross_attn.out_proj.weight 512x512
        decoder.layers.{0..9}.cross_attn.out_proj.bias 512
        decoder.layers.{0..9}.cross_attn_norm.weight 512
        decoder.layers.{0..9}.cross_attn_norm.bias 512
        decoder.layers.{0..9}.ffn.fc1.weight 1024x512
        decoder.layers.{0..9}.ffn.fc1.bias 1024
        decoder.layers.{0..9}.ffn.fc2.weight 512x1024
        decoder.layers.{0..9}.ffn.fc2.bias 512
        decoder.layers.{0..9}.ffn_norm.weight 512
        decoder.layers.{0..9}.ffn_norm.bias 512
        heads.0.weight 6x512
        heads.0.bias 6
        heads.{1..10}.weight 16x512
        heads.{1..10}.bias 16
        """;

    private const string SmallTable = """
        cls_token 256
        start_token 256
        projections.{0..2}.fc1.weight 256x768
        projections.{0..2}.fc1.bias 256
        projections.{0..2}.fc2.weight 256x256
        projections.{0..2}.fc2.bias 256
        context_token_embedding.weight 166x256
        encoder.layers.{0..3}.self_attn.q_proj.weight 256x256
        encoder.layers.{0..3}.self_attn.q_proj.bias 256
        encoder.layers.{0..3}.self_attn.k_proj.weight 256x256
        encoder.layers.{0..3}.self_attn.k_proj.bias 256
        encoder.layers.{0..3}.self_attn.v_proj.weight 256x256
        encoder.layers.{0..3}.self_attn.v_proj.bias 256
        encoder.layers.{0..3}.self_attn.out_proj.weight 256x256
        encoder.layers.{0..3}.self_attn.out_proj.bias 256
        encoder.layers.{0..3}.self_attn_norm.weight 256
        encoder.layers.{0..3}.self_attn_norm.bias 256
        encoder.layers.{0..3}.ffn.fc1.weight 512x256
        encoder.layers.{0..3}.ffn.fc1.bias 512
        encoder.layers.{0..3}.ffn.fc2.weight 256x512
        encoder.layers.{0..3}.ffn.fc2.bias 256
        encoder.layers.{0..3}.ffn_norm.weight 256
        encoder.layers.{0..3}.ffn_norm.bias 256
        token_embedding.weight 166x256
        decoder.layers.{0..3}.self_attn.q_proj.weight 256x256
        decoder.layers.{0..3}.self_attn.q_proj.bias 256
        decoder.layers.{0..3}.self_attn.k_proj.weight 256x256
        decoder.layers.{0..3}.self_attn.k_proj.bias 256
        decoder.layers.{0..3}.self_attn.v_proj.weight 256x256
        decoder.layers.{0..3}.self_attn.v_proj.bias 256
        decoder.layers.{0..3}.self_attn.out_proj.weight 256x256
        decoder.layers.{0..3}.self_attn.out_proj.bias 256
        decoder.layers.{0..3}.self_attn_norm.weight 256
        decoder.layers.{0..3}.self_attn_norm.bias 256
        decoder.layers.{0..3}.cross_attn.q_proj.weight 256x256
        decoder.layers.{0..3}.cross_attn.q_proj.bias 256
        decoder.layers.{0..3}.cross_attn.k_proj.weight 256x256
        decoder.layers.{0..3}.cross_attn.k_proj.bias 256
        decoder.layers.{0..3}.cross_attn.v_proj.weight 256x256
        decoder.layers.{0..3}.cross_attn.v_proj.bias 256
        decoder.layers.{0..3}.cross_attn.out_proj.weight 256x256
        decoder.layers.{0..3}.cross_attn.out_proj.bias 256
        decoder.layers.{0..3}.cross_attn_norm.weight 256
        decoder.layers.{0..3}.cross_attn_norm.bias 256
        decoder.layers.{0..3}.ffn.fc1.weight 512x256
        decoder.layers.{0..3}.ffn.fc1.bias 512
        decoder.layers.{0..3}.ffn.fc2.weight 256x512
        decoder.layers.{0..3}.ffn.fc2.bias 256
        decoder.layers.{0..3}.ffn_norm.weight 256
        decoder.layers.{0..3}.ffn_norm.bias 256
        heads.0.weight 6x256
        heads.0.bias 6
        heads.{1..10}.weight 16x256
        heads.{1..10}.bias 16
        copy_head.query.weight 256x256
        copy_head.query.bias 256
        copy_head.key.weight 256x256
        copy_head.key.bias 256
        copy_head.gate.weight 1x256
        copy_head.gate.bias 1
        copy_head.rank_bias 15
        """;

    private const string TinyTable = """
        cls_token 128
        start_token 128
        projections.{0..2}.fc1.weight 128x768
        projections.{0..2}.fc1.bias 128
        projections.{0..2}.fc2.weight 128x128
        projections.{0..2}.fc2.bias 128
        context_token_embedding.weight 166x128
        encoder.layers.{0..1}.self_attn.q_proj.weight 128x128
        encoder.layers.{0..1}.self_attn.q_proj.bias 128
        encoder.layers.{0..1}.self_attn.k_proj.weight 128x128
        encoder.layers.{0..1}.self_attn.k_proj.bias 128
        encoder.layers.{0..1}.self_attn.v_proj.weight 128x128
        encoder.layers.{0..1}.self_attn.v_proj.bias 128
        encoder.layers.{0..1}.self_attn.out_proj.weight 128x128
        encoder.layers.{0..1}.self_attn.out_proj.bias 128
        encoder.layers.{0..1}.self_attn_norm.weight 128
        encoder.layers.{0..1}.self_attn_norm.bias 128
        encoder.layers.{0..1}.ffn.fc1.weight 256x128
        encoder.layers.{0..1}.ffn.fc1.bias 256
        encoder.layers.{0..1}.ffn.fc2.weight 128x256
        encoder.layers.{0..1}.ffn.fc2.bias 128
        encoder.layers.{0..1}.ffn_norm.weight 128
        encoder.layers.{0..1}.ffn_norm.bias 128
        token_embedding.weight 166x128
        decoder.layers.{0..1}.self_attn.q_proj.weight 128x128
        decoder.layers.{0..1}.self_attn.q_proj.bias 128
        decoder.layers.{0..1}.self_attn.k_proj.weight 128x128
        decoder.layers.{0..1}.self_attn.k_proj.bias 128
        decoder.layers.{0..1}.self_attn.v_proj.weight 128x128
        decoder.layers.{0..1}.self_attn.v_proj.bias 128
        decoder.layers.{0..1}.self_attn.out_proj.weight 128x128
        decoder.layers.{0..1}.self_attn.out_proj.bias 128
        decoder.layers.{0..1}.self_attn_norm.weight 128
        decoder.layers.{0..1}.self_attn_norm.bias 128
        decoder.layers.{0..1}.cross_attn.q_proj.weight 128x128
        decoder.layers.{0..1}.cross_attn.q_proj.bias 128
        decoder.layers.{0..1}.cross_attn.k_proj.weight 128x128
        decoder.layers.{0..1}.cross_attn.k_proj.bias 128
        decoder.layers.{0..1}.cross_attn.v_proj.weight 128x128
        decoder.layers.{0..1}.cross_attn.v_proj.bias 128
        decoder.layers.{0..1}.cross_attn.out_proj.weight 128x128
        decoder.layers.{0..1}.cross_attn.out_proj.bias 128
        decoder.layers.{0..1}.cross_attn_norm.weight 128
        decoder.layers.{0..1}.cross_attn_norm.bias 128
        decoder.layers.{0..1}.ffn.fc1.weight 256x128
        decoder.layers.{0..1}.ffn.fc1.bias 256
        decoder.layers.{0..1}.ffn.fc2.weight 128x256
        decoder.layers.{0..1}.ffn.fc2.bias 128
        decoder.layers.{0..1}.ffn_norm.weight 128
        decoder.layers.{0..1}.ffn_norm.bias 128
        heads.0.weight 6x128
        heads.0.bias 6
        heads.{1..10}.weight 16x128
        heads.{1..10}.bias 16
        copy_head.query.weight 128x128
        copy_head.query.bias 128
        copy_head.key.weight 128x128
        copy_head.key.bias 128
        copy_head.gate.weight 1x128
        copy_head.gate.bias 1
        copy_head.rank_bias 15
        """;
}

using GeoToken.Tokens;

namespace GeoToken.Model.Tests.Model;

public class GeoTokenModelOptionsTests
{
    [Fact]
    public void Defaults_are_the_paper_model()
    {
        var o = new GeoTokenModelOptions();
        Assert.Equal(GeoTokenModelOptions.Paper, o);
        Assert.Equal((512, 8, 1024, 10, 10, 0.1), (o.ModelDimension, o.HeadCount, o.FeedForwardDimension, o.EncoderLayers, o.DecoderLayers, o.Dropout));
        Assert.Equal((3, 768, 15, 20, 2), (o.ModalityCount, o.FeatureDimension, o.NeighborCount, o.Tokenizer.Level, o.Tokenizer.GroupSize));
        Assert.Equal((NormOrder.Post, ContextLayout.Paper), (o.NormOrder, o.ContextLayout));
    }

    [Theory]
    [InlineData("paper")]
    [InlineData("Small")]
    [InlineData(" TINY ")]
    public void Presets_are_found_by_name(string name) =>
        Assert.Same(GeoTokenModelOptions.FromPreset(name), GeoTokenModelOptions.FromPreset(name.Trim().ToUpperInvariant()));

    [Fact]
    public void Unknown_preset_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => GeoTokenModelOptions.FromPreset("huge"));
        Assert.Contains("'huge'", e.Message);
        Assert.Contains("paper, small, tiny", e.Message);
    }

    [Theory]
    [InlineData(1, 20, 2, 11)]
    [InlineData(2, 30, 4, 9)]
    [InlineData(3, 10, 3, 5)]
    public void Sequence_length_is_one_plus_ceil_L_over_G(int _, int level, int group, int length) =>
        Assert.Equal(length, (GeoTokenModelOptions.Tiny with { Tokenizer = new GeoTokenizerOptions { Level = level, GroupSize = group } }).SequenceLength);

    public static TheoryData<GeoTokenModelOptions, string> Invalid => new()
    {
        { GeoTokenModelOptions.Tiny with { HeadCount = 5 }, "HeadCount 5 does not divide ModelDimension 128" },
        { GeoTokenModelOptions.Tiny with { Dropout = 1.0 }, "Dropout is 1" },
        { GeoTokenModelOptions.Tiny with { ModalityCount = 4 }, "ModalityCount is 4" },
        { GeoTokenModelOptions.Tiny with { NeighborCount = -1 }, "NeighborCount is -1" },
        { GeoTokenModelOptions.Tiny with { EncoderLayers = 0 }, "EncoderLayers is 0" },
        { GeoTokenModelOptions.Tiny with { FeatureDimension = 0 }, "FeatureDimension is 0" },
        { GeoTokenModelOptions.Tiny with { Tokenizer = new GeoTokenizerOptions { Level = 31 } }, "Level 31" },
        { GeoTokenModelOptions.Tiny with { ContextLayout = (ContextLayout)7 }, "ContextLayout 7" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_settings_are_named(GeoTokenModelOptions options, string message)
    {
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(message, e.Message);
        Assert.Throws<ArgumentException>(() => new GeoTokenModel(options));
    }

    [Fact]
    public void Differences_are_listed_one_per_setting()
    {
        var diffs = GeoTokenModelOptions.Tiny.DescribeDifferences(GeoTokenModelOptions.Tiny with { ModelDimension = 64, Tokenizer = new GeoTokenizerOptions { Level = 12 } });
        Assert.Equal(["ModelDimension: 128 ≠ 64", "Tokenizer.Level: 20 ≠ 12"], diffs);
        Assert.Empty(GeoTokenModelOptions.Paper.DescribeDifferences(new GeoTokenModelOptions()));
    }
}

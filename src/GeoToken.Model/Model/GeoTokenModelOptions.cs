using System.Globalization;
using System.Text.Json.Serialization;
using GeoToken.Tokens;

namespace GeoToken.Model;

/// <summary>
/// The shape of a <see cref="GeoTokenModel"/>: transformer sizes, inputs (modalities, feature dimension,
/// neighbors), the tokenizer that defines the output sequence, and architecture switches.
/// The defaults are the paper's model (<see cref="Paper"/>).
/// </summary>
/// <remarks>
/// Presets: <see cref="Paper"/> (≈55M parameters), and the CPU-sized <see cref="Small"/> and
/// <see cref="Tiny"/>, which use the <see cref="ContextLayout.Compact"/> layout. Derive variants with
/// <c>with</c>, e.g. <c>GeoTokenModelOptions.Small with { FeatureDimension = 512 }</c>.
/// Call <see cref="Validate"/> (the model does) to check a combination.
/// </remarks>
public sealed record GeoTokenModelOptions
{
    /// <summary>The paper's model: d = 512, 8 heads, feed-forward 1024, 10 + 10 layers, dropout 0.1, M = 3, d_in = 768, k = 15, post-norm, paper layout.</summary>
    public static GeoTokenModelOptions Paper { get; } = new();

    /// <summary>CPU-sized: d = 256, 4 heads, feed-forward 512, 4 + 4 layers, compact layout, neighbor-copy head; other settings as <see cref="Paper"/>.</summary>
    public static GeoTokenModelOptions Small { get; } = new()
    {
        NeighborCopy = true,
        ModelDimension = 256,
        HeadCount = 4,
        FeedForwardDimension = 512,
        EncoderLayers = 4,
        DecoderLayers = 4,
        ContextLayout = ContextLayout.Compact,
    };

    /// <summary>Smallest useful model: d = 128, 4 heads, feed-forward 256, 2 + 2 layers, compact layout, neighbor-copy head; other settings as <see cref="Paper"/>.</summary>
    public static GeoTokenModelOptions Tiny { get; } = new()
    {
        NeighborCopy = true,
        ModelDimension = 128,
        HeadCount = 4,
        FeedForwardDimension = 256,
        EncoderLayers = 2,
        DecoderLayers = 2,
        ContextLayout = ContextLayout.Compact,
    };

    /// <summary>The names accepted by <see cref="FromPreset"/>: <c>paper</c>, <c>small</c>, <c>tiny</c>.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["paper", "small", "tiny"];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive; see <see cref="PresetNames"/>).</summary>
    /// <exception cref="ArgumentException">The name is not a preset.</exception>
    public static GeoTokenModelOptions FromPreset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "paper" => Paper,
            "small" => Small,
            "tiny" => Tiny,
            _ => throw new ArgumentException($"Unknown model preset '{name}'; expected one of: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }

    /// <summary>Width of every hidden vector, <c>d_model</c> (default 512).</summary>
    public int ModelDimension { get; init; } = 512;

    /// <summary>Attention heads per attention block; must divide <see cref="ModelDimension"/> (default 8).</summary>
    public int HeadCount { get; init; } = 8;

    /// <summary>Hidden width of each feed-forward block (default 1024).</summary>
    public int FeedForwardDimension { get; init; } = 1024;

    /// <summary>Transformer encoder layers (default 10).</summary>
    public int EncoderLayers { get; init; } = 10;

    /// <summary>Transformer decoder layers (default 10).</summary>
    public int DecoderLayers { get; init; } = 10;

    /// <summary>Dropout probability after positional encodings, in attention weights, in feed-forward blocks and on residual branches, in [0, 1) (default 0.1).</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>
    /// Feature views per photo, <c>M</c>, 1–3 (default 3: image, image→location, image→text embeddings).
    /// Each view has its own projection MLP, shared between the query and its neighbors.
    /// </summary>
    public int ModalityCount { get; init; } = 3;

    /// <summary>Dimension of each input feature vector, <c>d_in</c> (default 768; 512 for CLIP ViT-B).</summary>
    public int FeatureDimension { get; init; } = 768;

    /// <summary>Retrieved neighbors per query, <c>k</c>, ≥ 0 (default 15). Zero disables the retrieval context.</summary>
    public int NeighborCount { get; init; } = 15;

    /// <summary>The tokenizer settings (S2 level and group size) that define the token sequence (default: the paper's, 11 tokens).</summary>
    public GeoTokenizerOptions Tokenizer { get; init; } = GeoTokenizerOptions.Paper;

    /// <summary>Post-norm (paper, default) or pre-norm transformer layers.</summary>
    public NormOrder NormOrder { get; init; } = NormOrder.Post;

    /// <summary>How neighbors are laid out in the encoder input (default <see cref="ContextLayout.Paper"/>).</summary>
    public ContextLayout ContextLayout { get; init; } = ContextLayout.Paper;

    /// <summary>
    /// Whether the model has the neighbor-copy head (default false, as the paper; true in <see cref="Small"/> and <see cref="Tiny"/>): a pointer over the
    /// retrieved neighbors, mixed into each position's output distribution with a learned gate, that lets the
    /// decoder copy the next token of a neighbor whose earlier tokens agree with the prefix decoded so far.
    /// Needs <see cref="NeighborCount"/> ≥ 1. The README's SynthGeo accuracy and training-throughput tables measure what it changes.
    /// </summary>
    public bool NeighborCopy { get; init; }

    /// <summary>Tokens per sequence, <c>T = 1 + ceil(L / G)</c> (11 with the paper's tokenizer).</summary>
    [JsonIgnore]
    public int SequenceLength => 1 + (Tokenizer.Level + Tokenizer.GroupSize - 1) / Tokenizer.GroupSize;

    /// <summary>Encoder positions: <c>1 + M + k·(M + T)</c> in the paper layout, <c>1 + M + k</c> in the compact one.</summary>
    [JsonIgnore]
    public int ContextLength => 1 + ModalityCount + NeighborCount * (ContextLayout == ContextLayout.Paper ? ModalityCount + SequenceLength : 1);

    /// <summary>Width of one attention head, <see cref="ModelDimension"/> / <see cref="HeadCount"/>.</summary>
    [JsonIgnore]
    public int HeadDimension => ModelDimension / HeadCount;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(ModelDimension >= 1, $"ModelDimension is {ModelDimension}; it must be at least 1.");
        Require(HeadCount >= 1, $"HeadCount is {HeadCount}; it must be at least 1.");
        Require(ModelDimension % HeadCount == 0, $"HeadCount {HeadCount} does not divide ModelDimension {ModelDimension}.");
        Require(FeedForwardDimension >= 1, $"FeedForwardDimension is {FeedForwardDimension}; it must be at least 1.");
        Require(EncoderLayers >= 1, $"EncoderLayers is {EncoderLayers}; it must be at least 1.");
        Require(DecoderLayers >= 1, $"DecoderLayers is {DecoderLayers}; it must be at least 1.");
        Require(Dropout is >= 0 and < 1 && !double.IsNaN(Dropout), $"Dropout is {Dropout.ToString(CultureInfo.InvariantCulture)}; it must be in [0, 1).");
        Require(ModalityCount is >= 1 and <= 3, $"ModalityCount is {ModalityCount}; it must be 1, 2 or 3.");
        Require(FeatureDimension >= 1, $"FeatureDimension is {FeatureDimension}; it must be at least 1.");
        Require(NeighborCount >= 0, $"NeighborCount is {NeighborCount}; it must not be negative.");
        Require(Tokenizer is not null, "Tokenizer is null.");
        Require(!NeighborCopy || NeighborCount >= 1, "NeighborCopy is true but NeighborCount is 0; the copy head needs retrieved neighbors.");
        Require(Enum.IsDefined(NormOrder), $"NormOrder {(int)NormOrder} is not a defined value.");
        Require(Enum.IsDefined(ContextLayout), $"ContextLayout {(int)ContextLayout} is not a defined value.");
        try
        {
            _ = new GeoTokenizer(Tokenizer);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"Tokenizer settings are invalid (Level {Tokenizer!.Level}, GroupSize {Tokenizer.GroupSize}): {e.Message}", e);
        }
    }

    /// <summary>
    /// Every setting that differs from <paramref name="other"/>, as <c>"Name: this value ≠ other value"</c>
    /// lines (empty when the two are equal).
    /// </summary>
    public IReadOnlyList<string> DescribeDifferences(GeoTokenModelOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var diffs = new List<string>();
        void Compare<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                diffs.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: {a} ≠ {b}"));
            }
        }

        Compare(nameof(ModelDimension), ModelDimension, other.ModelDimension);
        Compare(nameof(HeadCount), HeadCount, other.HeadCount);
        Compare(nameof(FeedForwardDimension), FeedForwardDimension, other.FeedForwardDimension);
        Compare(nameof(EncoderLayers), EncoderLayers, other.EncoderLayers);
        Compare(nameof(DecoderLayers), DecoderLayers, other.DecoderLayers);
        Compare(nameof(Dropout), Dropout, other.Dropout);
        Compare(nameof(ModalityCount), ModalityCount, other.ModalityCount);
        Compare(nameof(FeatureDimension), FeatureDimension, other.FeatureDimension);
        Compare(nameof(NeighborCount), NeighborCount, other.NeighborCount);
        Compare("Tokenizer.Level", Tokenizer?.Level, other.Tokenizer?.Level);
        Compare("Tokenizer.GroupSize", Tokenizer?.GroupSize, other.Tokenizer?.GroupSize);
        Compare(nameof(NormOrder), NormOrder, other.NormOrder);
        Compare(nameof(ContextLayout), ContextLayout, other.ContextLayout);
        Compare(nameof(NeighborCopy), NeighborCopy, other.NeighborCopy);
        return diffs;
    }
}

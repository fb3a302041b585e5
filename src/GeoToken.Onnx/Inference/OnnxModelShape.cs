using GeoToken.Tokens;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// The exported transformer's shape, as <c>config.json</c> records it (the same names as the TorchSharp
/// model's options in a GeoToken model file, camelCase).
/// </summary>
public sealed record OnnxModelShape
{
    /// <summary>Width of every hidden vector, <c>d</c>.</summary>
    public required int ModelDimension { get; init; }

    /// <summary>Attention heads per attention block.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Hidden width of each feed-forward block.</summary>
    public required int FeedForwardDimension { get; init; }

    /// <summary>Transformer encoder layers.</summary>
    public required int EncoderLayers { get; init; }

    /// <summary>Transformer decoder layers (one self-attention cache per layer).</summary>
    public required int DecoderLayers { get; init; }

    /// <summary>The training dropout (informational: the graphs are inference graphs without dropout).</summary>
    public required double Dropout { get; init; }

    /// <summary>Feature views per photo, <c>M</c>.</summary>
    public required int ModalityCount { get; init; }

    /// <summary>Dimension of each input feature vector, <c>d_in</c>.</summary>
    public required int FeatureDimension { get; init; }

    /// <summary>Retrieved neighbors per query, <c>k</c> (at least 1 in an export).</summary>
    public required int NeighborCount { get; init; }

    /// <summary>The tokenizer settings that define the token sequence.</summary>
    public required GeoTokenizerOptions Tokenizer { get; init; }

    /// <summary><c>Post</c> or <c>Pre</c> (layer-norm order; informational).</summary>
    public required string NormOrder { get; init; }

    /// <summary><c>Paper</c> or <c>Compact</c> (how neighbors are laid out in the encoder input; informational).</summary>
    public required string ContextLayout { get; init; }

    /// <summary>Whether the step graph mixes in the neighbor-copy pointer (its output is then the mixed log-probabilities).</summary>
    public required bool NeighborCopy { get; init; }

    /// <summary>Encoder positions, <c>S</c> (the cross-attention keys' length).</summary>
    public required int ContextLength { get; init; }
}

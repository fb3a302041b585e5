using GeoToken.Tokens;

namespace GeoToken.Decoding;

/// <summary>What a loaded model (<see cref="IRuntimeModel"/>) reads and writes, whatever its runtime.</summary>
public sealed record RuntimeModelInfo
{
    /// <summary>Feature views per image, M (1: image; 3: image, location, text).</summary>
    public required int ModalityCount { get; init; }

    /// <summary>Dimension of every feature view, D.</summary>
    public required int FeatureDimension { get; init; }

    /// <summary>Neighbors per query, k (0: a model without retrieved context).</summary>
    public required int NeighborCount { get; init; }

    /// <summary>The transformer's width.</summary>
    public required int ModelDimension { get; init; }

    /// <summary>The tokenizer of the sequences the model writes.</summary>
    public required GeoTokenizerOptions Tokenizer { get; init; }

    /// <summary>Learned parameters (null when the runtime does not say).</summary>
    public long? ParameterCount { get; init; }

    /// <summary>One line for logs and reports (preset shape, layout, copy head).</summary>
    public required string Description { get; init; }

    /// <summary>Tokens per sequence, T.</summary>
    public int SequenceLength => new GeoTokenizer(Tokenizer).Length;
}

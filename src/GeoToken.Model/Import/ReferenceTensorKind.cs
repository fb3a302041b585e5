namespace GeoToken.Model.Import;

/// <summary>How one tensor of the reference layout relates to this library's parameters.</summary>
internal enum ReferenceTensorKind
{
    /// <summary>The same tensor under another name.</summary>
    Same,

    /// <summary>A <c>[1, d]</c> row that is a <c>[d]</c> vector here (<c>cls_token</c>, <c>start_token_embedding</c>).</summary>
    Row,

    /// <summary>PyTorch's packed attention input projection: the query, key and value projections stacked along rows.</summary>
    Packed,

    /// <summary>A parameter the reference defines but never uses in its forward pass; ignored on import, zeros on export.</summary>
    Unused,

    /// <summary>The encoder's sinusoid table <c>[500, 1, d]</c>.</summary>
    EncoderPositions,

    /// <summary>The decoder's sinusoid table <c>[T + 1, 1, d]</c>.</summary>
    DecoderPositions,
}

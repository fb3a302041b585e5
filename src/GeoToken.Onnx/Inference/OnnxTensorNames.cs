namespace GeoToken.Onnx.Inference;

/// <summary>The input and output names of the exported graphs (shared by the exporter and the runtime).</summary>
internal static class OnnxTensorNames
{
    public const string EncoderFile = "encoder.onnx";
    public const string DecoderStepFile = "decoder_step.onnx";

    public const string QueryFeatures = "query_features";
    public const string NeighborFeatures = "neighbor_features";
    public const string NeighborTokens = "neighbor_tokens";
    public const string CopyKeys = "copy_keys";

    public const string Tokens = "tokens";
    public const string BeamRows = "beam_rows";
    public const string PastAgrees = "past_agrees";
    public const string PresentAgrees = "present_agrees";
    public const string LogProbs = "log_probs";

    public static string CrossKey(int layer) => $"cross_key_{layer}";

    public static string CrossValue(int layer) => $"cross_value_{layer}";

    public static string PastKey(int layer) => $"past_key_{layer}";

    public static string PastValue(int layer) => $"past_value_{layer}";

    public static string PresentKey(int layer) => $"present_key_{layer}";

    public static string PresentValue(int layer) => $"present_value_{layer}";

    /// <summary>The encoder's inputs, in order.</summary>
    public static string[] EncoderInputs() => [QueryFeatures, NeighborFeatures, NeighborTokens];

    /// <summary>The encoder's outputs, in order: cross keys and values per decoder layer, then the copy keys.</summary>
    public static string[] EncoderOutputs(int layers, bool copy) =>
        [.. Enumerable.Range(0, layers).SelectMany(i => new[] { CrossKey(i), CrossValue(i) }), .. copy ? new[] { CopyKeys } : []];

    /// <summary>The step's inputs, in order.</summary>
    public static string[] StepInputs(int layers, bool copy) =>
    [
        Tokens, BeamRows,
        .. Enumerable.Range(0, layers).SelectMany(i => new[] { PastKey(i), PastValue(i) }),
        .. Enumerable.Range(0, layers).SelectMany(i => new[] { CrossKey(i), CrossValue(i) }),
        .. copy ? new[] { PastAgrees, CopyKeys, NeighborTokens } : [],
    ];

    /// <summary>The step's outputs, in order.</summary>
    public static string[] StepOutputs(int layers, bool copy) =>
    [
        LogProbs,
        .. Enumerable.Range(0, layers).SelectMany(i => new[] { PresentKey(i), PresentValue(i) }),
        .. copy ? new[] { PresentAgrees } : [],
    ];
}

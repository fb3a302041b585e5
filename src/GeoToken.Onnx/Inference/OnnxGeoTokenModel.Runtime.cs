using System.Globalization;
using GeoToken.Decoding;

namespace GeoToken.Onnx.Inference;

/// <summary>The model as the runtime-neutral <see cref="IRuntimeModel"/> that the predictor and the evaluation run.</summary>
public sealed partial class OnnxGeoTokenModel : IRuntimeModel
{
    private RuntimeModelInfo? _info;

    /// <inheritdoc/>
    string IRuntimeModel.Runtime => OnnxGeoTokenRuntime.RuntimeName;

    /// <inheritdoc/>
    string IRuntimeModel.Path => Directory;

    /// <summary>What the model reads and writes, from its config.</summary>
    public RuntimeModelInfo Info => _info ??= Describe(Config);

    /// <inheritdoc/>
    IEncodedBatch IRuntimeModel.Encode(EncoderInputs inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        inputs.Validate(Info);
        OnnxDecodingState state;
        lock (InferenceGate) state = Encode(inputs.QueryFeatures.Span, inputs.NeighborFeatures.Span, inputs.NeighborTokens.Span, inputs.Count, cancellationToken);
        return new OnnxEncodedBatch(this, state);
    }

    private static RuntimeModelInfo Describe(OnnxModelConfig config)
    {
        var m = config.Model;
        return new RuntimeModelInfo
        {
            ModalityCount = m.ModalityCount,
            FeatureDimension = m.FeatureDimension,
            NeighborCount = m.NeighborCount,
            ModelDimension = m.ModelDimension,
            Tokenizer = m.Tokenizer,
            Description = string.Create(CultureInfo.InvariantCulture, $"ONNX export (opset {config.Opset}), d = {m.ModelDimension}, {m.EncoderLayers} + {m.DecoderLayers} layers, {m.ModalityCount} view(s) of {m.FeatureDimension}, k = {m.NeighborCount}, {m.ContextLayout} layout{(m.NeighborCopy ? ", neighbor-copy head" : "")}"),
        };
    }
}

using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using GeoToken.IO;
using GeoToken.Model;
using GeoToken.Onnx.Inference;
using Google.Protobuf;
using N = GeoToken.Onnx.Inference.OnnxTensorNames;

namespace GeoToken.Onnx.Export;

/// <summary>
/// Exports a <see cref="GeoTokenModel"/> as an ONNX folder that <see cref="OnnxGeoTokenModel"/> runs on ONNX Runtime
/// without libtorch: <c>encoder.onnx</c>, <c>decoder_step.onnx</c> (one KV-cached decoding step) and <c>config.json</c>
/// (model shape, tokenizer, input/output names, opset and the SHA-256 of each graph).
/// </summary>
/// <remarks>
/// The graphs are built operator by operator from the model's weights (ONNX opset <see cref="Opset"/>, weights as
/// initializers) and compute what the model computes in evaluation mode: the step's output equals
/// <c>GeoTokenDecoderCache.Step</c> (log-softmax of the logits, or of the neighbor-copy mixture) up to float rounding.
/// Every preset, both context layouts, both norm orders and the neighbor-copy head are supported; a model without
/// retrieved neighbors (<c>NeighborCount</c> 0) is not.
/// </remarks>
public static class GeoTokenOnnxExporter
{
    /// <summary>The ONNX default-domain opset of the graphs (17: <c>LayerNormalization</c>).</summary>
    public const int Opset = 17;

    /// <summary>
    /// Writes the export folder <paramref name="directory"/> (created if missing). Each file is written atomically;
    /// <c>config.json</c> last, so a folder with a config holds the graphs it names.
    /// </summary>
    /// <returns>The configuration written to <c>config.json</c>.</returns>
    /// <exception cref="ArgumentException">The model has no retrieved neighbors (<c>NeighborCount</c> 0).</exception>
    /// <exception cref="IOException">A file of the export exists and <see cref="OnnxExportOptions.Overwrite"/> is false.</exception>
    public static OnnxModelConfig Export(GeoTokenModel model, string directory, OnnxExportOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new OnnxExportOptions();
        var o = model.Options;
        if (o.NeighborCount < 1)
        {
            throw new ArgumentException($"The model has NeighborCount {o.NeighborCount}; ONNX export needs at least one retrieved neighbor.", nameof(model));
        }

        string dir = Path.GetFullPath(directory);
        string[] files = [N.EncoderFile, N.DecoderStepFile, OnnxModelConfig.FileName];
        if (!options.Overwrite)
        {
            foreach (var f in files)
            {
                string path = Path.Combine(dir, f);
                if (File.Exists(path)) throw new IOException($"{path} exists; set Overwrite (--force) to replace it.");
            }
        }

        Directory.CreateDirectory(dir);
        string version = typeof(GeoTokenOnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
        var graphs = new TransformerGraphs(model);
        cancellationToken.ThrowIfCancellationRequested();
        var encoder = Write(dir, N.EncoderFile, graphs.Encoder(), version, N.EncoderInputs(), N.EncoderOutputs(o.DecoderLayers, o.NeighborCopy));
        cancellationToken.ThrowIfCancellationRequested();
        var step = Write(dir, N.DecoderStepFile, graphs.DecoderStep(), version, N.StepInputs(o.DecoderLayers, o.NeighborCopy), N.StepOutputs(o.DecoderLayers, o.NeighborCopy));
        var config = new OnnxModelConfig
        {
            Format = OnnxModelConfig.FormatName,
            FormatVersion = OnnxModelConfig.CurrentFormatVersion,
            Producer = "GeoToken.Onnx.Export " + version,
            Opset = Opset,
            Model = new OnnxModelShape
            {
                ModelDimension = o.ModelDimension,
                HeadCount = o.HeadCount,
                FeedForwardDimension = o.FeedForwardDimension,
                EncoderLayers = o.EncoderLayers,
                DecoderLayers = o.DecoderLayers,
                Dropout = o.Dropout,
                ModalityCount = o.ModalityCount,
                FeatureDimension = o.FeatureDimension,
                NeighborCount = o.NeighborCount,
                Tokenizer = o.Tokenizer,
                NormOrder = o.NormOrder.ToString(),
                ContextLayout = o.ContextLayout.ToString(),
                NeighborCopy = o.NeighborCopy,
                ContextLength = o.ContextLength,
            },
            SequenceLength = o.SequenceLength,
            VocabularySizes = model.Tokenizer.VocabularySizes.ToArray(),
            Encoder = encoder,
            DecoderStep = step,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, OnnxModelConfig.FileName), JsonSerializer.Serialize(config, OnnxModelConfig.Json));
        return config;
    }

    private static OnnxGraphInfo Write(string dir, string file, OnnxGraphBuilder graph, string version, string[] inputs, string[] outputs)
    {
        byte[] bytes = graph.Build(Opset, "GeoToken.Onnx.Export", version).ToByteArray();
        AtomicFile.Write(Path.Combine(dir, file), s => s.Write(bytes));
        return new OnnxGraphInfo { File = file, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Inputs = inputs, Outputs = outputs };
    }
}

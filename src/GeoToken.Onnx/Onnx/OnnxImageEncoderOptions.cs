using GeoToken.Imaging;
using GeoToken.Preprocessing;
using Microsoft.ML.OnnxRuntime;

namespace GeoToken.Onnx;

/// <summary>Settings of an <see cref="OnnxImageEncoder"/>. Every setting has a documented default.</summary>
public sealed record OnnxImageEncoderOptions
{
    /// <summary>How images become the model's input. Default <see cref="ImagePreprocessing.Clip"/>.</summary>
    public ImagePreprocessing Preprocessing { get; init; } = ImagePreprocessing.Clip;

    /// <summary>
    /// How image files are decoded. Default <see cref="ImageDecodeOptions.Default"/> (EXIF orientation
    /// applied, images over 100 MP refused). When its <see cref="ImageDecodeOptions.LargeImageShorterSide"/>
    /// is unset, the encoder uses <see cref="ImagePreprocessing.ResizeShorterSide"/>: images beyond the
    /// full-decode budget are decoded at the smallest scale the resize still needs.
    /// </summary>
    public ImageDecodeOptions Decoding { get; init; } = ImageDecodeOptions.Default;

    /// <summary>
    /// The model input that receives the images. Default <see langword="null"/>: the model's only
    /// 4-D float (or float16) input; models with other inputs are refused.
    /// </summary>
    public string? InputName { get; init; }

    /// <summary>
    /// The tensor used as the embedding. Default <see langword="null"/>: the model's first float
    /// (or float16) tensor output. May name an intermediate tensor (e.g. a penultimate layer such as
    /// SqueezeNet's <c>pool10_flattened</c>): ONNX Runtime only returns graph outputs, so the encoder
    /// then adds that tensor to the graph's outputs in memory (the model file is not changed).
    /// </summary>
    public string? OutputName { get; init; }

    /// <summary>How the output tensor of one image becomes a vector. Default <see cref="OutputPooling.Flatten"/>.</summary>
    public OutputPooling Pooling { get; init; } = OutputPooling.Flatten;

    /// <summary>Scale each embedding to unit length (they are compared by cosine). Default <see langword="true"/>. An all-zero output stays zero.</summary>
    public bool L2Normalize { get; init; } = true;

    /// <summary>
    /// Images per inference run when the model's batch dimension is dynamic. Default 8. A model with
    /// a fixed batch size N always runs N at a time (the last batch padded with zero images whose
    /// outputs are discarded).
    /// </summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Threads ONNX Runtime uses inside one operator. Default 0: ONNX Runtime's choice (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Let idle ONNX Runtime threads spin-wait (ONNX Runtime's own default). Default
    /// <see langword="false"/>: they sleep, leaving the cores to the decoding of the next batch,
    /// which overlaps inference (measured faster on 2 cores; see the project README).
    /// </summary>
    public bool SpinWaitThreads { get; init; }

    /// <summary>Images decoded and preprocessed in parallel (overlapping with inference). Default 0: <see cref="Environment.ProcessorCount"/>.</summary>
    public int DecodeThreads { get; init; }

    /// <summary>
    /// Called with the session options before the session is created, e.g. to append an execution
    /// provider (<c>o => o.AppendExecutionProvider_CUDA()</c>). Default <see langword="null"/>: CPU.
    /// </summary>
    public Action<SessionOptions>? ConfigureSession { get; init; }
}

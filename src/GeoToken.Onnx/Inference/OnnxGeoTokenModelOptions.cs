using Microsoft.ML.OnnxRuntime;

namespace GeoToken.Onnx.Inference;

/// <summary>Settings of an <see cref="OnnxGeoTokenModel"/>'s ONNX Runtime sessions. Every setting has a documented default.</summary>
/// <remarks>
/// The sessions run on the CPU execution provider unless <see cref="ConfigureSession"/> appends another. For a GPU or NPU,
/// reference the matching ONNX Runtime package in the application in place of <c>Microsoft.ML.OnnxRuntime</c>
/// (<c>Microsoft.ML.OnnxRuntime.Gpu</c> for CUDA, <c>Microsoft.ML.OnnxRuntime.DirectML</c> on Windows; CoreML is in the
/// standard package on macOS/iOS) and append its provider, e.g.
/// <c>ConfigureSession = o => o.AppendExecutionProvider_CUDA(0)</c>, <c>o => o.AppendExecutionProvider_DML(0)</c> or
/// <c>o => o.AppendExecutionProvider_CoreML()</c>. Operators a provider lacks fall back to the CPU.
/// </remarks>
public sealed record OnnxGeoTokenModelOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator. Default 0: ONNX Runtime's choice (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>ONNX Runtime's graph optimisations. Default <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>
    /// Called with the session options of both graphs before the sessions are created, e.g. to append an execution
    /// provider. Default <see langword="null"/>: the CPU provider.
    /// </summary>
    public Action<SessionOptions>? ConfigureSession { get; init; }
}

using GeoToken.Model;
using static TorchSharp.torch;

namespace GeoToken.Onnx.Export;

/// <summary>Reads a model's state-dict tensors as float32 arrays on the CPU, by state-dict key.</summary>
internal sealed class ModelWeights(GeoTokenModel model)
{
    private readonly Dictionary<string, Tensor> _state = model.state_dict();

    /// <summary>The tensor's values in C order, and its shape.</summary>
    public (float[] Data, long[] Shape) Get(string key)
    {
        var t = Find(key);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cpu = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return (cpu.data<float>().ToArray(), t.shape);
    }

    /// <summary>A 2-D tensor <c>[rows, cols]</c> transposed to <c>[cols, rows]</c> (a Linear weight as the right-hand side of MatMul).</summary>
    public (float[] Data, long[] Shape) GetTransposed(string key)
    {
        var t = Find(key);
        if (t.dim() != 2) throw new InvalidOperationException($"Weight {key} has shape [{string.Join(", ", t.shape)}]; expected 2-D.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cpu = t.detach().to(ScalarType.Float32).cpu().t().contiguous();
        return (cpu.data<float>().ToArray(), [t.shape[1], t.shape[0]]);
    }

    private Tensor Find(string key) =>
        _state.TryGetValue(key, out var t) ? t : throw new InvalidOperationException($"The model has no weight '{key}'; the exporter and GeoTokenModel disagree on parameter names.");
}

using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>The encoder: a stack of <see cref="EncoderLayer"/>s, plus a final norm when pre-norm.</summary>
/// <remarks>State-dict names: <c>layers.{i}</c>, and <c>norm</c> (pre-norm only).</remarks>
internal sealed class EncoderStack : nn.Module
{
    [ComponentName(Name = "layers")]
    private readonly ModuleList<EncoderLayer> _layers;

    [ComponentName(Name = "norm")]
    private readonly LayerNorm? _norm;

    public EncoderStack(GeoTokenModelOptions o) : base(nameof(EncoderStack))
    {
        _layers = new ModuleList<EncoderLayer>();
        for (int i = 0; i < o.EncoderLayers; i++) _layers.Add(new EncoderLayer(o));
        _norm = o.NormOrder == NormOrder.Pre ? nn.LayerNorm(o.ModelDimension, eps: 1e-5) : null;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in _layers) x = layer.Forward(x);
        if (_norm is not null) x = _norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>The decoder: a stack of <see cref="DecoderLayer"/>s, plus a final norm when pre-norm.</summary>
/// <remarks>State-dict names: <c>layers.{i}</c>, and <c>norm</c> (pre-norm only).</remarks>
internal sealed class DecoderStack : nn.Module
{
    [ComponentName(Name = "layers")]
    private readonly ModuleList<DecoderLayer> _layers;

    [ComponentName(Name = "norm")]
    private readonly LayerNorm? _norm;

    public DecoderStack(GeoTokenModelOptions o) : base(nameof(DecoderStack))
    {
        _layers = new ModuleList<DecoderLayer>();
        for (int i = 0; i < o.DecoderLayers; i++) _layers.Add(new DecoderLayer(o));
        _norm = o.NormOrder == NormOrder.Pre ? nn.LayerNorm(o.ModelDimension, eps: 1e-5) : null;
        RegisterComponents();
    }

    public IList<DecoderLayer> Layers => _layers;

    /// <summary>Full causal decoding of <paramref name="x"/> [B, L, d] against <paramref name="memory"/> [B, S, d].</summary>
    public Tensor Forward(Tensor x, Tensor memory)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in _layers)
        {
            var (k, v) = layer.MemoryKeyValue(memory);
            x = layer.Forward(x, k, v);
        }

        if (_norm is not null) x = _norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Full causal decoding of <paramref name="x"/> [N, L, d] against precomputed memory keys/values
    /// (one per layer, [N / R, h, S, d/h]; groups of <paramref name="rowsPerMemory"/> consecutive rows share a memory row).
    /// </summary>
    public Tensor Forward(Tensor x, IReadOnlyList<Tensor> memoryKeys, IReadOnlyList<Tensor> memoryValues, int rowsPerMemory)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < _layers.Count; i++) x = _layers[i].Forward(x, memoryKeys[i], memoryValues[i], rowsPerMemory);
        if (_norm is not null) x = _norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>One position [N, 1, d] through every layer with the given caches (groups of <paramref name="rowsPerMemory"/> rows share a memory row).</summary>
    public Tensor Step(Tensor x, IReadOnlyList<Tensor> memoryKeys, IReadOnlyList<Tensor> memoryValues,
        IReadOnlyList<Tensor> selfKeys, IReadOnlyList<Tensor> selfValues, int position, int rowsPerMemory = 1)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < _layers.Count; i++)
        {
            x = _layers[i].Step(x, memoryKeys[i], memoryValues[i], selfKeys[i], selfValues[i], position, rowsPerMemory);
        }

        if (_norm is not null) x = _norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}

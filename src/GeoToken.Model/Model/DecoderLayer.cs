using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>
/// A transformer decoder layer (causal self-attention, cross-attention to the encoder memory,
/// feed-forward), post- or pre-norm, with a full-sequence and a one-step (KV-cached) form.
/// </summary>
/// <remarks>State-dict names: <c>self_attn</c>, <c>self_attn_norm</c>, <c>cross_attn</c>, <c>cross_attn_norm</c>, <c>ffn</c>, <c>ffn_norm</c>.</remarks>
internal sealed class DecoderLayer : nn.Module
{
    [ComponentName(Name = "self_attn")]
    private readonly MultiHeadAttention _selfAttn;

    [ComponentName(Name = "self_attn_norm")]
    private readonly LayerNorm _selfAttnNorm;

    [ComponentName(Name = "cross_attn")]
    private readonly MultiHeadAttention _crossAttn;

    [ComponentName(Name = "cross_attn_norm")]
    private readonly LayerNorm _crossAttnNorm;

    [ComponentName(Name = "ffn")]
    private readonly FeedForward _ffn;

    [ComponentName(Name = "ffn_norm")]
    private readonly LayerNorm _ffnNorm;

    private readonly double _dropout;
    private readonly bool _preNorm;

    public DecoderLayer(GeoTokenModelOptions o) : base(nameof(DecoderLayer))
    {
        _selfAttn = new MultiHeadAttention(o.ModelDimension, o.HeadCount, o.Dropout);
        _selfAttnNorm = nn.LayerNorm(o.ModelDimension, eps: 1e-5);
        _crossAttn = new MultiHeadAttention(o.ModelDimension, o.HeadCount, o.Dropout);
        _crossAttnNorm = nn.LayerNorm(o.ModelDimension, eps: 1e-5);
        _ffn = new FeedForward(o.ModelDimension, o.FeedForwardDimension, o.Dropout);
        _ffnNorm = nn.LayerNorm(o.ModelDimension, eps: 1e-5);
        _dropout = o.Dropout;
        _preNorm = o.NormOrder == NormOrder.Pre;
        RegisterComponents();
    }

    /// <summary>The cross-attention keys and values of the encoder memory [B, S, d], each [B, h, S, d/h].</summary>
    public (Tensor Key, Tensor Value) MemoryKeyValue(Tensor memory) => _crossAttn.KeyValue(memory);

    /// <summary>
    /// Full causal decoding of <paramref name="x"/> [N, L, d] against the memory's keys and values
    /// [N / <paramref name="rowsPerMemory"/>, h, S, d/h]: rows <c>r·R … r·R + R − 1</c> of <paramref name="x"/> attend to memory row <c>r</c>.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor memoryKey, Tensor memoryValue, int rowsPerMemory = 1) =>
        Run(x, memoryKey, memoryValue, selfKeyCache: null, selfValueCache: null, position: 0, rowsPerMemory);

    /// <summary>
    /// One position <paramref name="x"/> [N, 1, d] at <paramref name="position"/>: its self-attention key and value
    /// are written into the caches [N, h, capacity, d/h] at that position, and it attends to positions 0..position.
    /// Memory rows are shared by groups of <paramref name="rowsPerMemory"/> consecutive rows (see <see cref="Forward"/>).
    /// </summary>
    public Tensor Step(Tensor x, Tensor memoryKey, Tensor memoryValue, Tensor selfKeyCache, Tensor selfValueCache, int position, int rowsPerMemory = 1) =>
        Run(x, memoryKey, memoryValue, selfKeyCache, selfValueCache, position, rowsPerMemory);

    private Tensor Run(Tensor x, Tensor memoryKey, Tensor memoryValue, Tensor? selfKeyCache, Tensor? selfValueCache, int position, int rowsPerMemory)
    {
        using var scope = NewDisposeScope();
        Tensor h = _preNorm ? _selfAttnNorm.forward(x) : x;
        Tensor selfOut = SelfAttention(h, selfKeyCache, selfValueCache, position);
        Tensor x1 = _preNorm ? x.Plus(F.dropout(selfOut, _dropout, training)) : _selfAttnNorm.forward(x.Plus(F.dropout(selfOut, _dropout, training)));

        Tensor h2 = _preNorm ? _crossAttnNorm.forward(x1) : x1;
        Tensor crossOut = CrossAttention(h2, memoryKey, memoryValue, rowsPerMemory);
        Tensor x2 = _preNorm ? x1.Plus(F.dropout(crossOut, _dropout, training)) : _crossAttnNorm.forward(x1.Plus(F.dropout(crossOut, _dropout, training)));

        Tensor h3 = _preNorm ? _ffnNorm.forward(x2) : x2;
        Tensor ffOut = _ffn.Forward(h3);
        Tensor x3 = _preNorm ? x2.Plus(F.dropout(ffOut, _dropout, training)) : _ffnNorm.forward(x2.Plus(F.dropout(ffOut, _dropout, training)));
        return x3.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Cross-attention of <paramref name="h"/> [N, L, d] over memory keys/values [N / R, h, S, d/h]. With R &gt; 1 the
    /// R·L queries of a memory row's group are attended together as one longer query sequence (no mask):
    /// every query attends independently, so this equals repeating the memory R times, without copying it.
    /// </summary>
    private Tensor CrossAttention(Tensor h, Tensor memoryKey, Tensor memoryValue, int rowsPerMemory)
    {
        if (rowsPerMemory == 1) return _crossAttn.Attend(_crossAttn.Query(h), memoryKey, memoryValue, causal: false);
        long n = h.shape[0], l = h.shape[1], d = h.shape[2];
        using var grouped = h.reshape(n / rowsPerMemory, rowsPerMemory * l, d);
        using var q = _crossAttn.Query(grouped);
        using var o = _crossAttn.Attend(q, memoryKey, memoryValue, causal: false);
        return o.reshape(n, l, d);
    }

    private Tensor SelfAttention(Tensor h, Tensor? keyCache, Tensor? valueCache, int position)
    {
        var (q, k, v) = _selfAttn.QueryKeyValue(h);
        if (keyCache is null || valueCache is null)
        {
            return _selfAttn.Attend(q, k, v, causal: true);
        }

        // Incremental: store this position's key/value, attend over everything cached so far (no mask needed).
        keyCache.narrow(2, position, 1).copy_(k);
        valueCache.narrow(2, position, 1).copy_(v);
        return _selfAttn.Attend(q, keyCache.narrow(2, 0, position + 1), valueCache.narrow(2, 0, position + 1), causal: false);
    }
}

using TorchSharp;
using TorchSharp.Utils;
using TorchSharp.Modules;
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

    /// <summary>Full causal decoding of <paramref name="x"/> [B, L, d] against the memory's keys and values.</summary>
    public Tensor Forward(Tensor x, Tensor memoryKey, Tensor memoryValue) =>
        Run(x, memoryKey, memoryValue, selfKeyCache: null, selfValueCache: null, position: 0);

    /// <summary>
    /// One position <paramref name="x"/> [B, 1, d] at <paramref name="position"/>: its self-attention key and value
    /// are written into the caches [B, h, capacity, d/h] at that position, and it attends to positions 0..position.
    /// </summary>
    public Tensor Step(Tensor x, Tensor memoryKey, Tensor memoryValue, Tensor selfKeyCache, Tensor selfValueCache, int position) =>
        Run(x, memoryKey, memoryValue, selfKeyCache, selfValueCache, position);

    private Tensor Run(Tensor x, Tensor memoryKey, Tensor memoryValue, Tensor? selfKeyCache, Tensor? selfValueCache, int position)
    {
        using var scope = NewDisposeScope();
        Tensor h = _preNorm ? _selfAttnNorm.forward(x) : x;
        Tensor selfOut = SelfAttention(h, selfKeyCache, selfValueCache, position);
        Tensor x1 = _preNorm ? x + F.dropout(selfOut, _dropout, training) : _selfAttnNorm.forward(x + F.dropout(selfOut, _dropout, training));

        Tensor h2 = _preNorm ? _crossAttnNorm.forward(x1) : x1;
        Tensor crossOut = _crossAttn.Attend(_crossAttn.Query(h2), memoryKey, memoryValue, causal: false);
        Tensor x2 = _preNorm ? x1 + F.dropout(crossOut, _dropout, training) : _crossAttnNorm.forward(x1 + F.dropout(crossOut, _dropout, training));

        Tensor h3 = _preNorm ? _ffnNorm.forward(x2) : x2;
        Tensor ffOut = _ffn.Forward(h3);
        Tensor x3 = _preNorm ? x2 + F.dropout(ffOut, _dropout, training) : _ffnNorm.forward(x2 + F.dropout(ffOut, _dropout, training));
        return x3.MoveToOuterDisposeScope();
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

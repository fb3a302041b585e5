using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>A transformer encoder layer (self-attention, feed-forward), post- or pre-norm.</summary>
/// <remarks>State-dict names: <c>self_attn</c>, <c>self_attn_norm</c>, <c>ffn</c>, <c>ffn_norm</c>.</remarks>
internal sealed class EncoderLayer : nn.Module
{
    [ComponentName(Name = "self_attn")]
    private readonly MultiHeadAttention _selfAttn;

    [ComponentName(Name = "self_attn_norm")]
    private readonly LayerNorm _selfAttnNorm;

    [ComponentName(Name = "ffn")]
    private readonly FeedForward _ffn;

    [ComponentName(Name = "ffn_norm")]
    private readonly LayerNorm _ffnNorm;

    private readonly double _dropout;
    private readonly bool _preNorm;

    public EncoderLayer(GeoTokenModelOptions o) : base(nameof(EncoderLayer))
    {
        _selfAttn = new MultiHeadAttention(o.ModelDimension, o.HeadCount, o.Dropout);
        _selfAttnNorm = nn.LayerNorm(o.ModelDimension, eps: 1e-5);
        _ffn = new FeedForward(o.ModelDimension, o.FeedForwardDimension, o.Dropout);
        _ffnNorm = nn.LayerNorm(o.ModelDimension, eps: 1e-5);
        _dropout = o.Dropout;
        _preNorm = o.NormOrder == NormOrder.Pre;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = _preNorm ? _selfAttnNorm.forward(x) : x;
        var (q, k, v) = _selfAttn.QueryKeyValue(h);
        Tensor a = _selfAttn.Attend(q, k, v, causal: false);
        Tensor x1 = _preNorm ? x.Plus(F.dropout(a, _dropout, training)) : _selfAttnNorm.forward(x.Plus(F.dropout(a, _dropout, training)));
        Tensor h2 = _preNorm ? _ffnNorm.forward(x1) : x1;
        Tensor f = _ffn.Forward(h2);
        Tensor x2 = _preNorm ? x1.Plus(F.dropout(f, _dropout, training)) : _ffnNorm.forward(x1.Plus(F.dropout(f, _dropout, training)));
        return x2.MoveToOuterDisposeScope();
    }
}

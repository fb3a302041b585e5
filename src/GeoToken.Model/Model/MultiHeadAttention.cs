using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>
/// Multi-head scaled dot-product attention with separate query/key/value/output projections, split so
/// that keys and values can be computed once and cached (cross-attention memory, incremental
/// self-attention). Uses libtorch's fused <c>scaled_dot_product_attention</c>.
/// </summary>
/// <remarks>State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c> (each <c>weight</c> [d, d] and <c>bias</c> [d]).</remarks>
internal sealed class MultiHeadAttention : nn.Module
{
    [ComponentName(Name = "q_proj")]
    private readonly Linear _qProj;

    [ComponentName(Name = "k_proj")]
    private readonly Linear _kProj;

    [ComponentName(Name = "v_proj")]
    private readonly Linear _vProj;

    [ComponentName(Name = "out_proj")]
    private readonly Linear _outProj;

    private readonly int _heads;
    private readonly int _headDim;
    private readonly double _dropout;

    public MultiHeadAttention(int dModel, int heads, double dropout) : base(nameof(MultiHeadAttention))
    {
        _heads = heads;
        _headDim = dModel / heads;
        _dropout = dropout;
        _qProj = nn.Linear(dModel, dModel);
        _kProj = nn.Linear(dModel, dModel);
        _vProj = nn.Linear(dModel, dModel);
        _outProj = nn.Linear(dModel, dModel);

        // PyTorch's nn.MultiheadAttention initialisation: Xavier-uniform input projections, zero biases.
        using (no_grad())
        {
            foreach (var lin in new[] { _qProj, _kProj, _vProj })
            {
                nn.init.xavier_uniform_(lin.weight!);
                nn.init.zeros_(lin.bias!);
            }

            nn.init.zeros_(_outProj.bias!);
        }

        RegisterComponents();
    }

    /// <summary>Projects <paramref name="x"/> [B, L, d] to queries [B, h, L, d/h].</summary>
    public Tensor Query(Tensor x) => SplitHeads(_qProj.forward(x));

    /// <summary>Projects <paramref name="x"/> [B, L, d] to keys and values, each [B, h, L, d/h] (one fused matrix product).</summary>
    public (Tensor Key, Tensor Value) KeyValue(Tensor x)
    {
        using var scope = NewDisposeScope();
        var kv = Project(x, [_kProj, _vProj]).unbind(0);
        return (kv[0].MoveToOuterDisposeScope(), kv[1].MoveToOuterDisposeScope());
    }

    /// <summary>Self-attention projections of <paramref name="x"/> [B, L, d]: queries, keys and values, each [B, h, L, d/h] (one fused matrix product).</summary>
    public (Tensor Query, Tensor Key, Tensor Value) QueryKeyValue(Tensor x)
    {
        using var scope = NewDisposeScope();
        var qkv = Project(x, [_qProj, _kProj, _vProj]).unbind(0);
        return (qkv[0].MoveToOuterDisposeScope(), qkv[1].MoveToOuterDisposeScope(), qkv[2].MoveToOuterDisposeScope());
    }

    /// <summary>
    /// x [B, L, d] through several d → d projections: [n, B, h, L, d/h]. With autograd on (training) as one
    /// matrix product with the weights stacked (as PyTorch's packed in_proj); the parameters stay
    /// separate for stable names.
    /// </summary>
    private Tensor Project(Tensor x, Linear[] projections)
    {
        if (!is_grad_enabled())
        {
            // Inference (e.g. one decoding step for a few rows): stacking the weights would copy more
            // than the products compute, so run the projections separately.
            return stack(projections.Select(p => SplitHeads(p.forward(x))).ToArray(), 0);
        }

        var w = cat(projections.Select(p => (Tensor)p.weight!).ToArray(), 0);
        var b = cat(projections.Select(p => (Tensor)p.bias!).ToArray(), 0);
        var y = F.linear(x, w, b); // [B, L, n·d]
        return y.view(x.shape[0], x.shape[1], projections.Length, _heads, _headDim).permute(2, 0, 3, 1, 4);
    }

    /// <summary>Attention of queries [B, h, Lq, d/h] over keys/values [B, h, Lk, d/h]; returns [B, Lq, d] after the output projection.</summary>
    /// <param name="q">Queries [B, h, Lq, d/h].</param>
    /// <param name="k">Keys [B, h, Lk, d/h].</param>
    /// <param name="v">Values [B, h, Lk, d/h].</param>
    /// <param name="causal">Query i sees keys 0..i (requires Lq = Lk).</param>
    public Tensor Attend(Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var a = F.scaled_dot_product_attention(q, k, v, null, training ? _dropout : 0.0, causal);
        long b = a.shape[0], l = a.shape[2];
        using var merged = a.transpose(1, 2).reshape(b, l, _heads * _headDim);
        return _outProj.forward(merged);
    }

    private Tensor SplitHeads(Tensor x)
    {
        using (x)
        {
            return x.view(x.shape[0], x.shape[1], _heads, _headDim).transpose(1, 2);
        }
    }
}

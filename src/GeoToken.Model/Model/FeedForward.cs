using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>The position-wise feed-forward block: <c>fc2(dropout(relu(fc1(x))))</c>, as PyTorch's transformer layers.</summary>
/// <remarks>State-dict names: <c>fc1</c> (d → ff), <c>fc2</c> (ff → d).</remarks>
internal sealed class FeedForward : nn.Module
{
    [ComponentName(Name = "fc1")]
    private readonly Linear _fc1;

    [ComponentName(Name = "fc2")]
    private readonly Linear _fc2;

    private readonly double _dropout;

    public FeedForward(int dModel, int hidden, double dropout) : base(nameof(FeedForward))
    {
        _fc1 = nn.Linear(dModel, hidden);
        _fc2 = nn.Linear(hidden, dModel);
        _dropout = dropout;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var h = _fc1.forward(x);
        using var r = F.relu(h, inplace: true);
        using var d = F.dropout(r, _dropout, training);
        return _fc2.forward(d);
    }
}

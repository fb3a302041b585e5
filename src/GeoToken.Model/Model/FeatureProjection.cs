using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>One modality's projection of input features: <c>normalize(fc2(relu(fc1(x))))</c>, d_in → d → d, unit L2 norm.</summary>
/// <remarks>State-dict names: <c>fc1</c> (d_in → d), <c>fc2</c> (d → d).</remarks>
internal sealed class FeatureProjection : nn.Module
{
    [ComponentName(Name = "fc1")]
    private readonly Linear _fc1;

    [ComponentName(Name = "fc2")]
    private readonly Linear _fc2;

    public FeatureProjection(int inputDim, int dModel) : base(nameof(FeatureProjection))
    {
        _fc1 = nn.Linear(inputDim, dModel);
        _fc2 = nn.Linear(dModel, dModel);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var h = _fc1.forward(x);
        using var r = F.relu(h, inplace: true);
        using var o = _fc2.forward(r);
        return F.normalize(o, p: 2.0, dim: -1, eps: 1e-12);
    }
}

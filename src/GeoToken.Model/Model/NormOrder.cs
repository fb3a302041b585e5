namespace GeoToken.Model;

/// <summary>Where the transformer layers apply layer normalisation.</summary>
public enum NormOrder
{
    /// <summary>
    /// Post-norm (the paper, and PyTorch's default): <c>x = Norm(x + Sublayer(x))</c>. No final norm
    /// after the last layer.
    /// </summary>
    Post = 0,

    /// <summary>
    /// Pre-norm: <c>x = x + Sublayer(Norm(x))</c>, with a final layer norm after the last encoder layer
    /// and after the last decoder layer. Usually more stable for deep stacks and larger learning rates.
    /// </summary>
    Pre = 1,
}

using TorchSharp;

namespace GeoToken.Model;

/// <summary>
/// Scalars that live for the whole process. TorchSharp 0.107 converts .NET numbers to native scalars implicitly
/// (e.g. the alpha = 1 of <c>tensor + tensor</c>) and frees them in a finalizer; a garbage collection during the
/// native call can free such a temporary while libtorch still reads it ("Expected false to be true … toFloat").
/// Hot paths therefore pass these rooted scalars, or keep their own in a <c>using</c> for the duration of the call.
/// </summary>
internal static class Scalars
{
    /// <summary>1, as the alpha of additions.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/> without a temporary scalar.</summary>
    public static torch.Tensor Plus(this torch.Tensor a, torch.Tensor b) => a.add(b, One);
}

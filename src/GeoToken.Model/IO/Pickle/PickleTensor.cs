
namespace GeoToken.IO.Pickle;

/// <summary>A tensor a checkpoint's pickle describes (<c>torch._utils._rebuild_tensor_v2</c>): a strided view of a storage. Nothing is read until it is materialised.</summary>
/// <param name="Storage">The storage it views.</param>
/// <param name="Offset">The storage offset, in elements.</param>
/// <param name="Shape">The sizes.</param>
/// <param name="Strides">The strides, in elements.</param>
internal sealed record PickleTensor(PickleStorage Storage, long Offset, long[] Shape, long[] Strides);

using static TorchSharp.torch;

namespace GeoToken.IO.Pickle;

/// <summary>A storage a checkpoint's pickle refers to by persistent id: the zip entry <c>data/{Key}</c> holding <see cref="ElementCount"/> elements of <see cref="DType"/>.</summary>
/// <param name="Key">The storage's name in the archive (<c>data/{Key}</c>).</param>
/// <param name="DType">The element type (from the storage class, e.g. <c>torch.FloatStorage</c>).</param>
/// <param name="ElementCount">The number of elements.</param>
/// <param name="Location">Where it was saved from (e.g. <c>cpu</c>, <c>cuda:0</c>); everything is read to the CPU.</param>
internal sealed record PickleStorage(string Key, ScalarType DType, long ElementCount, string Location);

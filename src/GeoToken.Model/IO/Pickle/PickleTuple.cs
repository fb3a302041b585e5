
namespace GeoToken.IO.Pickle;

/// <summary>A Python tuple read from a pickle.</summary>
internal sealed class PickleTuple(object?[] items)
{
    /// <summary>The elements.</summary>
    public object?[] Items { get; } = items;
}

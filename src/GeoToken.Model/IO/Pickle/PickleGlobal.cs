
namespace GeoToken.IO.Pickle;

/// <summary>A module-level name a pickle refers to (GLOBAL / STACK_GLOBAL), already checked against the allowlist.</summary>
/// <param name="Module">The module, e.g. <c>torch._utils</c>.</param>
/// <param name="Name">The name inside the module, e.g. <c>_rebuild_tensor_v2</c>.</param>
internal sealed record PickleGlobal(string Module, string Name)
{
    /// <summary>The dotted name, e.g. <c>torch._utils._rebuild_tensor_v2</c>.</summary>
    public string FullName => $"{Module}.{Name}";
}

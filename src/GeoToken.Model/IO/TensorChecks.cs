using System.Globalization;
using static TorchSharp.torch;

namespace GeoToken.IO;

/// <summary>Checks on tensors read from files, and their messages, which name the file and the tensor.</summary>
internal static class TensorChecks
{
    /// <summary>Throws when a floating-point tensor holds a NaN or an infinity (other element types always pass).</summary>
    /// <exception cref="InvalidDataException">The tensor has a non-finite value; the message names the file, the tensor, how many and the first one.</exception>
    public static void RequireFinite(Tensor tensor, string source, string name)
    {
        if (!is_floating_point(tensor) || tensor.numel() == 0) return;
        using var scope = NewDisposeScope();

        // One reduction: float32/16 values summed in float64 cannot overflow, so the sum is finite exactly when every
        // element is (a float64 tensor may overflow with finite values; the exact count below then finds none).
        if (double.IsFinite(tensor.sum(type: ScalarType.Float64).item<double>())) return;
        var bad = tensor.isfinite().logical_not().flatten();
        long count = bad.sum().item<long>();
        if (count == 0) return;
        long first = bad.to(ScalarType.Byte).argmax().item<long>();
        double value = tensor.flatten()[first].to(ScalarType.Float64).item<double>();
        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"'{source}': tensor '{name}' has {count} non-finite value(s), the first {value} at flat index {first}; the weights are corrupt."));
    }

    /// <summary>Tensor names for a message: the first ten, then how many more.</summary>
    public static string ListNames(IReadOnlyList<string> names) =>
        $"{string.Join(", ", names.Take(10))}{(names.Count > 10 ? $" (+{names.Count - 10} more)" : "")}";
}

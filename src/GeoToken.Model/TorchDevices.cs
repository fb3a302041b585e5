using TorchSharp;

namespace GeoToken.Model;

/// <summary>Parses device names (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>) with a clear error when the device is not available.</summary>
public static class TorchDevices
{
    /// <summary>The device named by <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name, or CUDA requested but unavailable (e.g. a CPU-only backend).</exception>
    public static torch.Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        TorchRuntime.EnsureAvailable();
        string n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return torch.CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
            {
                throw new ArgumentException($"Device '{name}' was requested but CUDA is not available. Build with -p:GeoTokenTorchBackend=cuda-windows or cuda-linux on a machine with an NVIDIA GPU.");
            }

            return new torch.Device(n);
        }

        throw new ArgumentException($"Unknown device '{name}'; use cpu, cuda or cuda:N.");
    }
}

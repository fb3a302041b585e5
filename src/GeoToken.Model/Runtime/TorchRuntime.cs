using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GeoToken.Model;

/// <summary>
/// Checks, at first use, that the native libtorch TorchSharp runs on is loadable, and says which package to add when
/// it is not. GeoToken.Model references the managed TorchSharp package only: the application chooses the native
/// runtime (<c>libtorch-cpu-&lt;rid&gt;</c>, <c>TorchSharp-cpu</c>, <c>TorchSharp-cuda-linux</c> or
/// <c>TorchSharp-cuda-windows</c>). The model constructor, the model and head loaders and
/// <see cref="TorchDevices.Parse"/> call <see cref="EnsureAvailable"/>, so a missing runtime fails there with one
/// clear message instead of a <see cref="TypeInitializationException"/> at the first tensor operation.
/// </summary>
/// <remarks>
/// The check loads <c>torch_cpu</c> the way TorchSharp first does (the application's native folder, its deps.json and
/// any <see cref="System.Runtime.Loader.AssemblyLoadContext.ResolvingUnmanagedDll"/> handler). When that fails it
/// throws at once: TorchSharp's last-resort fallback for notebooks (copying libtorch out of the NuGet cache into the
/// application's folder at run time, printing its trace to standard output) is not entered.
/// </remarks>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static volatile bool s_ready;

    /// <summary>The libtorch version this build of GeoToken.Model runs on (the native package's version, e.g. 2.10.0).</summary>
    public static string LibTorchVersion { get; } = Metadata("GeoToken.LibTorchVersion");

    /// <summary>The TorchSharp version this build references (also the version of <c>TorchSharp-cpu</c> and the CUDA bundles).</summary>
    public static string TorchSharpVersion { get; } = Metadata("GeoToken.TorchSharpVersion");

    /// <summary>
    /// The runtime identifier TorchSharp ships libtorch for that matches this process (<c>linux-x64</c>,
    /// <c>win-x64</c>, <c>win-arm64</c>, <c>osx-arm64</c>), or null on a platform it has no libtorch for.
    /// </summary>
    public static string? RuntimeIdentifier { get; } = DetectRuntimeIdentifier();

    /// <summary>The CPU libtorch package for this platform (<c>libtorch-cpu-linux-x64</c>, …), or null where there is none.</summary>
    public static string? CpuPackageId => RuntimeIdentifier is { } rid ? "libtorch-cpu-" + rid : null;

    /// <summary>
    /// Loads TorchSharp's native backend once, or throws one exception that says what to do. Cheap after the first
    /// success; safe to call from any thread.
    /// </summary>
    /// <exception cref="LibTorchNotFoundException">No libtorch can be loaded; the message names the package to add.</exception>
    /// <exception cref="InvalidOperationException">libtorch was found but TorchSharp's native library or libtorch itself did not load (e.g. a C++ runtime that is too old); the message carries the loader's reason.</exception>
    public static void EnsureAvailable()
    {
        if (s_ready) return;
        lock (Gate)
        {
            if (s_ready) return;
            var torchSharp = typeof(torch).Assembly;

            // The same names TorchSharp loads first; the probe also runs the host's ResolvingUnmanagedDll handlers
            // (an application or tool that keeps libtorch elsewhere answers there).
            if (!NativeLibrary.TryLoad("torch_cpu", torchSharp, null, out _))
            {
                throw new LibTorchNotFoundException(MissingMessage());
            }

            try
            {
                NativeLibrary.Load("LibTorchSharp", torchSharp, null);
            }
            catch (DllNotFoundException e)
            {
                throw new InvalidOperationException(
                    $"libtorch {LibTorchVersion} was found, but TorchSharp's native LibTorchSharp did not load: {e.Message}{CxxRuntimeHint()}", e);
            }

            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new InvalidOperationException($"TorchSharp {TorchSharpVersion} did not start on libtorch {LibTorchVersion}: {(e.InnerException ?? e).Message}", e);
            }

            s_ready = true;
        }
    }

    /// <summary>Calls <see cref="EnsureAvailable"/> and returns <paramref name="value"/> (for constructor initialisers).</summary>
    internal static T Checked<T>(T value)
    {
        EnsureAvailable();
        return value;
    }

    private static string MissingMessage()
    {
        string cpu = CpuPackageId is { } id
            ? $"{id} {LibTorchVersion} (CPU, this platform) or TorchSharp-cpu {TorchSharpVersion} (CPU, every platform)"
            : $"TorchSharp-cpu {TorchSharpVersion} (TorchSharp ships no libtorch for {RuntimeInformation.RuntimeIdentifier}; it runs on win-x64, win-arm64, linux-x64 and osx-arm64)";
        return $"libtorch not found: GeoToken.Model runs on TorchSharp, which needs the native libtorch {LibTorchVersion} in the application. "
            + $"Add one package to the application: {cpu}, or TorchSharp-cuda-linux / TorchSharp-cuda-windows {TorchSharpVersion} (NVIDIA GPU), "
            + $"e.g. 'dotnet add package {CpuPackageId ?? "TorchSharp-cpu"} --version {(CpuPackageId is null ? TorchSharpVersion : LibTorchVersion)}'.";
    }

    private static string CxxRuntimeHint() => OperatingSystem.IsLinux()
        ? " (TorchSharp's Linux build needs libstdc++ from GCC 13 or newer, with GLIBCXX_3.4.32)"
        : "";

    private static string? DetectRuntimeIdentifier()
    {
        var arch = RuntimeInformation.ProcessArchitecture;
        if (OperatingSystem.IsWindows()) return arch == Architecture.X64 ? "win-x64" : arch == Architecture.Arm64 ? "win-arm64" : null;
        if (OperatingSystem.IsLinux()) return arch == Architecture.X64 ? "linux-x64" : null;
        if (OperatingSystem.IsMacOS()) return arch == Architecture.Arm64 ? "osx-arm64" : null;
        return null;
    }

    private static string Metadata(string key) =>
        typeof(TorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"GeoToken.Model was built without the assembly metadata '{key}'.");
}

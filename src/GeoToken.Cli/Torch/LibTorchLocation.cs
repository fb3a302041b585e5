using System.Runtime.InteropServices;
using System.Runtime.Loader;
using GeoToken.Model;
using TorchSharp;

namespace GeoToken.Cli.Torch;

/// <summary>
/// Where the tool finds libtorch. The packed tool carries TorchSharp (managed, with its small LibTorchSharp for every
/// platform) but not libtorch (about 0.5 GB per platform, more with CUDA), so a torch verb loads it from, in order:
/// the tool's own folder (a build from source), the folder named by <c>GEOTOKEN_LIBTORCH</c>, or the folder
/// <c>geotoken setup torch</c> recorded. The loading happens at TorchSharp's first load of <c>torch_cpu</c> through
/// <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/>, which the runtime raises only when its own probing failed:
/// libtorch is loaded by full path (its libraries find each other there), after which TorchSharp's LibTorchSharp
/// resolves them by name.
/// </summary>
internal static class LibTorchLocation
{
    /// <summary>Environment variable naming a folder that holds libtorch's native libraries (overrides the setup).</summary>
    public const string DirectoryVariable = "GEOTOKEN_LIBTORCH";

    /// <summary>Environment variable naming the geotoken home folder (default: the local application-data folder's <c>geotoken</c>).</summary>
    public const string HomeVariable = "GEOTOKEN_HOME";

    private static readonly Lock Gate = new();
    private static bool s_registered;
    private static string? s_loadedFrom;
    private static string? s_loadError;

    /// <summary>The geotoken home folder (setup records, generated setup projects).</summary>
    public static string Home =>
        Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } home
            ? Path.GetFullPath(home)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "geotoken");

    /// <summary>Registers the loader (once per process). Cheap: nothing is loaded until TorchSharp asks.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (s_registered) return;
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
            s_registered = true;
        }
    }

    /// <summary>The configured libtorch folder and where the setting came from, or null when none is configured.</summary>
    /// <exception cref="InvalidDataException">The setup record is unreadable.</exception>
    public static (string Directory, string Source)? Configured()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir)
        {
            return (Path.GetFullPath(dir), DirectoryVariable);
        }

        string record = LibTorchSetupRecord.PathFor(Home, TorchRuntime.LibTorchVersion);
        return LibTorchSetupRecord.TryRead(record) is { } r ? (r.Directory, record) : null;
    }

    /// <summary>The file name of native library <paramref name="name"/> on this operating system (<c>libtorch.so</c>, <c>torch.dll</c>, <c>libtorch.dylib</c>).</summary>
    public static string NativeFileName(string name) =>
        OperatingSystem.IsWindows() ? (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? name : name + ".dll")
        : OperatingSystem.IsMacOS() ? "lib" + name + ".dylib"
        : "lib" + name + ".so";

    /// <summary>
    /// The one-line explanation for a torch verb that found no libtorch: what to run or set.
    /// </summary>
    public static string MissingMessage(string verb)
    {
        string rid = TorchRuntime.RuntimeIdentifier ?? RuntimeInformation.RuntimeIdentifier;
        string where;
        try
        {
            where = Configured() is not { } c ? ""
                : s_loadError is { } err ? $" (libtorch in '{c.Directory}', from {c.Source}, did not load: {err})"
                : $" ({c.Source} points at '{c.Directory}', which holds no {NativeFileName("torch")})";
        }
        catch (InvalidDataException e)
        {
            where = $" ({e.Message})";
        }

        return $"geotoken {verb} needs libtorch {TorchRuntime.LibTorchVersion} for {rid}, which is not set up{where}: "
            + $"run 'geotoken setup torch' (CPU) or 'geotoken setup torch --backend cuda' (NVIDIA GPU), "
            + $"or set {DirectoryVariable} to a folder holding libtorch {TorchRuntime.LibTorchVersion}'s native libraries.";
    }

    private static IntPtr Resolve(System.Reflection.Assembly assembly, string name)
    {
        if (assembly != typeof(torch).Assembly) return IntPtr.Zero;
        (string Directory, string Source)? configured;
        try
        {
            configured = Configured();
        }
        catch (InvalidDataException)
        {
            return IntPtr.Zero; // TorchRuntime then reports libtorch missing, and MissingMessage names the bad record
        }

        if (configured is not { } c || !System.IO.Directory.Exists(c.Directory)) return IntPtr.Zero;
        lock (Gate)
        {
            if (s_loadedFrom is null)
            {
                // libtorch (torch) pulls in torch_cpu, c10 and the OpenMP runtime from its own folder; a CUDA folder also
                // has torch_cuda, which TorchSharp asks for by name next.
                string torchLib = Path.Combine(c.Directory, NativeFileName("torch"));
                if (!File.Exists(torchLib)) return IntPtr.Zero;
                try
                {
                    NativeLibrary.Load(torchLib);
                }
                catch (DllNotFoundException e)
                {
                    s_loadError = e.Message.ReplaceLineEndings(" ");
                    return IntPtr.Zero;
                }

                s_loadedFrom = c.Directory;
            }
        }

        string path = Path.Combine(s_loadedFrom, NativeFileName(name));
        return File.Exists(path) && NativeLibrary.TryLoad(path, out var handle) ? handle : IntPtr.Zero;
    }
}

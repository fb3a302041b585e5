namespace GeoToken.Decoding;

/// <summary>Chooses the runtime of a model from the runtimes an application has (<see cref="IGeoTokenRuntime"/>).</summary>
public static partial class GeoTokenRuntimes
{
    /// <summary>Which runtime to add, for messages.</summary>
    internal const string WhichRuntime = "add TorchGeoTokenRuntime (package GeoToken.Model) for model folders and .gtm files, or OnnxGeoTokenRuntime (package GeoToken.Onnx) for folders written by geotoken export onnx";

    /// <summary>Opens <paramref name="modelPath"/> with the first of <paramref name="runtimes"/> that recognises it.</summary>
    /// <param name="modelPath">A model file or folder.</param>
    /// <param name="runtimes">The runtimes to try, in order.</param>
    /// <param name="cancellationToken">Cancels loading.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="modelPath"/>.</exception>
    /// <exception cref="ArgumentException">No runtime was given, or none recognises the model; the message lists what each opens and which package adds the other runtime.</exception>
    public static IRuntimeModel Open(string modelPath, IReadOnlyList<IGeoTokenRuntime> runtimes, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentNullException.ThrowIfNull(runtimes);
        if (!File.Exists(modelPath) && !Directory.Exists(modelPath)) throw new FileNotFoundException($"The model {Path.GetFullPath(modelPath)} does not exist.", modelPath);
        if (runtimes.Count == 0) throw new ArgumentException($"No runtime is given to open the model {modelPath}: {WhichRuntime}.");

        foreach (var runtime in runtimes)
        {
            ArgumentNullException.ThrowIfNull(runtime);
            if (runtime.CanOpen(modelPath)) return runtime.Open(modelPath, cancellationToken);
        }

        string known = string.Join("; ", runtimes.Select(r => $"{r.Name} opens {r.Formats}"));
        throw new ArgumentException($"No runtime given recognises the model {modelPath} ({known}). A TorchSharp model needs TorchGeoTokenRuntime (GeoToken.Model), an ONNX export OnnxGeoTokenRuntime (GeoToken.Onnx).");
    }
}

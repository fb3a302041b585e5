using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using GeoToken.Model.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Reranking;

/// <summary>
/// Saves and loads <see cref="RewardHead"/>s in the GeoToken tensor-file container (kind <c>"reward-head"</c>):
/// the model width, the threshold and the weights. Written atomically.
/// </summary>
public static class RewardHeadFile
{
    internal const string Kind = "reward-head";
    private const string Prefix = "reward.";

    /// <summary>Writes the head to <paramref name="path"/> (to a temporary file, then renamed into place).</summary>
    public static void Save(RewardHead head, string path)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var header = new JsonObject
        {
            ["kind"] = Kind,
            ["producer"] = "GeoToken.Model " + (typeof(RewardHeadFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?"),
            ["model_dimension"] = head.ModelDimension,
            ["threshold_km"] = head.ThresholdKm,
        };
        TensorFile.Write(path, header, head.state_dict().Select(kv => (Prefix + kv.Key, kv.Value)).ToList());
    }

    /// <summary>Loads a head saved by <see cref="Save"/> onto <paramref name="device"/> (CPU when null), in evaluation mode.</summary>
    /// <exception cref="InvalidDataException">The file is not a reward head or its weights do not fit its settings.</exception>
    public static RewardHead Load(string path, Device? device = null)
    {
        TorchRuntime.EnsureAvailable();
        var contents = TensorFile.ReadHeader(path);
        if ((string?)contents.Header["kind"] != Kind)
        {
            throw new InvalidDataException($"'{path}' is a GeoToken file of kind '{contents.Header["kind"]}', not a reward head ('{Kind}').");
        }

        int d = (int?)contents.Header["model_dimension"] ?? throw new InvalidDataException($"'{path}' has no model_dimension.");
        double threshold = (double?)contents.Header["threshold_km"] ?? throw new InvalidDataException($"'{path}' has no threshold_km.");
        RewardHead head;
        try
        {
            head = new RewardHead(d, threshold);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}' has invalid reward head settings (d = {d}, threshold {threshold} km): {e.Message}"), e);
        }

        try
        {
            TensorFile.LoadState(contents, head, Prefix, "its reward head options");
            if (device is not null) head.to(device);
            head.eval();
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }
}

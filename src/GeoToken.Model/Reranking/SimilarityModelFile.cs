using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.IO;
using GeoToken.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Reranking;

/// <summary>
/// Saves and loads <see cref="SimilarityModel"/>s in the GeoToken tensor-file container (the format of
/// <see cref="GeoTokenModelFile"/>), kind <c>"similarity-model"</c>: the options and every weight and Fourier
/// frequency matrix (named <c>similarity.</c> + state-dict key). Written atomically.
/// </summary>
public static class SimilarityModelFile
{
    internal const string Kind = "similarity-model";
    private const string Prefix = "similarity.";

    /// <summary>Writes the model to <paramref name="path"/> (to a temporary file, then renamed into place).</summary>
    public static void Save(SimilarityModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        lock (model.Gate)
        {
            var header = new JsonObject
            {
                ["kind"] = Kind,
                ["producer"] = TensorFile.Producer,
                ["similarity"] = JsonSerializer.SerializeToNode(model.Options, GeoTokenModelFile.Json),
            };
            TensorFile.Write(path, header, model.state_dict().Select(kv => (Prefix + kv.Key, kv.Value)).ToList());
        }
    }

    /// <summary>Loads a model saved by <see cref="Save"/> onto <paramref name="device"/> (CPU when null), in evaluation mode.</summary>
    /// <exception cref="InvalidDataException">The file is not a similarity model, has another format version, or does not match its options.</exception>
    public static SimilarityModel Load(string path, Device? device = null)
    {
        TorchRuntime.EnsureAvailable();
        var contents = TensorFile.ReadHeader(path, Kind, "similarity model");

        SimilarityModelOptions options;
        try
        {
            options = contents.Header["similarity"]?.Deserialize<SimilarityModelOptions>(GeoTokenModelFile.Json) ?? throw new InvalidDataException($"'{path}' has no similarity model options.");
            options.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' has invalid similarity model options: {e.Message}", e);
        }

        return TensorFile.LoadModule(contents, new SimilarityModel(options), Prefix, "its similarity model options", device);
    }
}

using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using GeoToken.Model.IO;
using GeoToken.Tokens;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>
/// Saves and loads <see cref="GeoTokenModel"/>s as one versioned file: format version, model options,
/// tokenizer settings and weights. Training checkpoints (written by <c>GeoTokenTrainer</c>) use the
/// same container with extra tensors and a <c>training</c> section; <see cref="Load(string, Device?)"/>
/// reads the weights from either.
/// </summary>
/// <remarks>
/// <para>File layout (format version 1, all integers little-endian):</para>
/// <code>
/// 0   8 bytes   ASCII "GEOTOKEN"
/// 8   uint32    format version (1)
/// 12  uint32    reserved, 0
/// 16  uint64    header length H
/// 24  H bytes   UTF-8 JSON header
///     padding   zeros up to a multiple of 64 bytes: the data section starts here
///     tensors   raw C-order elements, each at its "offset" from the data section (64-byte aligned)
/// </code>
/// <para>
/// The JSON header holds <c>kind</c> (<c>"model"</c> or <c>"checkpoint"</c>), <c>producer</c>,
/// <c>model</c> (the <see cref="GeoTokenModelOptions"/>, camelCase, enums as strings),
/// <c>tokenizer</c> (level, groupSize, length, vocabularySizes, offsets; derived from the options and
/// checked on load), <c>parameterCount</c>, and <c>tensors</c>: one
/// <c>{name, dtype, shape, offset, bytes}</c> entry per tensor, dtype one of float32, float64, int64, uint8.
/// Model weights are named <c>model.</c> + the state-dict key (e.g. <c>model.heads.0.weight</c>).
/// The format is simple enough to read with NumPy (<c>benchmarks/peers/geotoken_torch.py</c> does).
/// </para>
/// <para>Files are written atomically: to a temporary file in the same folder, flushed to disk, then renamed into place.</para>
/// </remarks>
public static class GeoTokenModelFile
{
    /// <summary>The file format version this library writes and reads.</summary>
    public const int FormatVersion = TensorFile.FormatVersion;

    internal const string ModelPrefix = "model.";
    internal const string KindModel = "model";
    internal const string KindCheckpoint = "checkpoint";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    /// <summary>Writes the model's options and weights to <paramref name="path"/> (atomically).</summary>
    public static void Save(GeoTokenModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        TensorFile.Write(path, CreateHeader(model, KindModel), ModelTensors(model));
    }

    /// <summary>
    /// Loads a model (from a model file or a training checkpoint), built with the options stored in the
    /// file, on the CPU, then moved to <paramref name="device"/> (CPU when null).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a GeoToken model file, has another format version, or is corrupt.</exception>
    public static GeoTokenModel Load(string path, Device? device = null)
    {
        var contents = TensorFile.ReadHeader(path);
        var options = ReadOptions(contents);
        var model = CreateWithoutTouchingRng(options);
        try
        {
            CopyWeights(model, contents);
            if (device is not null) model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Load(string, Device?)"/>, but first checks that the file was written for <paramref name="expected"/>.</summary>
    /// <exception cref="InvalidDataException">The file's model options differ from <paramref name="expected"/>; the message lists every difference.</exception>
    public static GeoTokenModel Load(string path, GeoTokenModelOptions expected, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var contents = TensorFile.ReadHeader(path);
        RequireSameOptions(contents, ReadOptions(contents), expected);
        return Load(path, device);
    }

    /// <summary>Copies the weights stored in <paramref name="path"/> into an existing model with the same options.</summary>
    /// <exception cref="InvalidDataException">The file's model options differ from the model's (the message lists every difference), or the file is corrupt.</exception>
    public static void LoadInto(GeoTokenModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var contents = TensorFile.ReadHeader(path);
        RequireSameOptions(contents, ReadOptions(contents), model.Options);
        CopyWeights(model, contents);
    }

    /// <summary>The options stored in a model file or checkpoint, without loading the weights.</summary>
    public static GeoTokenModelOptions ReadOptions(string path) => ReadOptions(TensorFile.ReadHeader(path));

    internal static JsonObject CreateHeader(GeoTokenModel model, string kind)
    {
        var tokenizer = model.Tokenizer;
        return new JsonObject
        {
            ["kind"] = kind,
            ["producer"] = "GeoToken.Model " + (typeof(GeoTokenModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?"),
            ["model"] = JsonSerializer.SerializeToNode(model.Options, Json),
            ["tokenizer"] = TokenizerNode(tokenizer),
            ["parameterCount"] = model.ParameterCount,
        };
    }

    internal static List<(string Name, Tensor Tensor)> ModelTensors(GeoTokenModel model) =>
        model.state_dict().Select(kv => (ModelPrefix + kv.Key, kv.Value)).ToList();

    internal static GeoTokenModelOptions ReadOptions(TensorFile.Contents contents)
    {
        string path = contents.Path;
        string? kind = (string?)contents.Header["kind"];
        if (kind is not (KindModel or KindCheckpoint))
        {
            throw new InvalidDataException($"'{path}' is a GeoToken file of kind '{kind}'; expected '{KindModel}' or '{KindCheckpoint}'.");
        }

        GeoTokenModelOptions options;
        try
        {
            options = contents.Header["model"]?.Deserialize<GeoTokenModelOptions>(Json)
                ?? throw new InvalidDataException($"'{path}' has no model options.");
            options.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' has invalid model options: {e.Message}", e);
        }

        var stored = contents.Header["tokenizer"];
        var derived = TokenizerNode(new GeoTokenizer(options.Tokenizer));
        if (stored is null || !JsonNode.DeepEquals(stored, derived))
        {
            throw new InvalidDataException($"'{path}': the stored tokenizer section {stored?.ToJsonString() ?? "(missing)"} does not match the one its model options define, {derived.ToJsonString()}.");
        }

        return options;
    }

    internal static void RequireSameOptions(TensorFile.Contents contents, GeoTokenModelOptions inFile, GeoTokenModelOptions expected)
    {
        var diffs = inFile.DescribeDifferences(expected);
        if (diffs.Count > 0)
        {
            throw new InvalidDataException(
                $"'{contents.Path}' was written for another model configuration (file ≠ expected): {string.Join("; ", diffs)}.");
        }
    }

    /// <summary>Copies every <c>model.*</c> tensor of the file into the model's parameters, checking names and shapes first.</summary>
    internal static void CopyWeights(GeoTokenModel model, TensorFile.Contents contents) =>
        TensorFile.LoadState(contents, model, ModelPrefix, "the model", otherTensorsAllowed: true);

    /// <summary>Builds a model without consuming torch's global random numbers (its initial weights are overwritten anyway).</summary>
    internal static GeoTokenModel CreateWithoutTouchingRng(GeoTokenModelOptions options)
    {
        using var state = get_rng_state();
        try
        {
            return new GeoTokenModel(options);
        }
        finally
        {
            set_rng_state(state);
        }
    }

    private static JsonObject TokenizerNode(GeoTokenizer t) => new()
    {
        ["level"] = t.Level,
        ["groupSize"] = t.GroupSize,
        ["length"] = t.Length,
        ["vocabularySizes"] = new JsonArray(t.VocabularySizes.ToArray().Select(v => (JsonNode)v).ToArray()),
        ["offsets"] = new JsonArray(t.Offsets.ToArray().Select(v => (JsonNode)v).ToArray()),
    };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using GeoToken.IO;
using GeoToken.Tokens;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>
/// Saves and loads <see cref="GeoTokenModel"/>s, in two formats: a <b>model folder</b> in the Hugging Face
/// convention (the default) or one <b><c>.gtm</c> file</b> (the original container, kept for existing files and
/// training checkpoints). <see cref="Load(string, Device?)"/> opens either, and checkpoints too.
/// </summary>
/// <remarks>
/// <para>
/// A model folder holds <c>config.json</c> — <c>format</c> (<c>"geotoken-model"</c>), <c>formatVersion</c> (1),
/// <c>kind</c>, <c>producer</c>, <c>model</c> (the options), <c>tokenizer</c>, <c>parameterCount</c> and
/// <c>weights</c> <c>{file, sha256}</c> — and <c>model.safetensors</c> (<see cref="IO.SafeTensorsFile"/>): every
/// state-dict tensor under its <see cref="GeoTokenModel"/> name (e.g. <c>heads.0.weight</c>) plus
/// <c>positional_encoding</c>. Loading checks the SHA-256, the exact set of names, every shape against the
/// options and that every weight is finite; the position table, when present, replaces the model's own
/// (<see cref="GeoTokenModel.SetPositionalEncoding"/>). See docs/model-files.md.
/// </para>
/// <para>The <c>.gtm</c> file layout (format version 1, all integers little-endian):</para>
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
    /// <summary>The <c>.gtm</c> file format version this library writes and reads.</summary>
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

    /// <summary>The file extension of the single-file container (<c>.gtm</c>).</summary>
    public const string SingleFileExtension = ".gtm";

    /// <summary>
    /// Writes the model's options and weights: as a model folder (<c>config.json</c> + <c>model.safetensors</c>)
    /// unless <paramref name="path"/> ends in <see cref="SingleFileExtension"/>, in which case as one <c>.gtm</c> file.
    /// Written atomically: a new folder appears complete or not at all, files are replaced by renaming.
    /// </summary>
    /// <exception cref="IOException"><paramref name="path"/> is an existing file but a folder would be written.</exception>
    public static void Save(GeoTokenModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (IsSingleFilePath(path))
        {
            TensorFile.Write(path, CreateHeader(model, KindModel), ModelTensors(model));
        }
        else
        {
            GeoTokenModelFolder.Save(model, path);
        }
    }

    /// <summary>Whether <see cref="Save"/> writes <paramref name="path"/> as one <c>.gtm</c> file (rather than a model folder).</summary>
    public static bool IsSingleFilePath(string path) =>
        Path.GetExtension(Path.TrimEndingDirectorySeparator(path ?? throw new ArgumentNullException(nameof(path)))).Equals(SingleFileExtension, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Loads a model (from a model folder, its <c>config.json</c>, a <c>.gtm</c> file or a training checkpoint),
    /// built with the stored options on the CPU, then moved to <paramref name="device"/> (CPU when null).
    /// Every weight is checked: names and shapes against the options, finiteness, and for a folder the SHA-256 of
    /// its weights file.
    /// </summary>
    /// <exception cref="InvalidDataException">The model is not a GeoToken model, has another format version, or is corrupt; the message names the file and the tensor.</exception>
    /// <exception cref="FileNotFoundException">Nothing is at <paramref name="path"/>.</exception>
    public static GeoTokenModel Load(string path, Device? device = null) => LoadChecked(path, null, device);

    /// <summary>As <see cref="Load(string, Device?)"/>, but first checks that the model was written for <paramref name="expected"/>.</summary>
    /// <exception cref="InvalidDataException">The stored model options differ from <paramref name="expected"/>; the message lists every difference.</exception>
    public static GeoTokenModel Load(string path, GeoTokenModelOptions expected, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return LoadChecked(path, expected, device);
    }

    /// <summary>Copies the weights stored at <paramref name="path"/> (a model folder or file) into an existing model with the same options.</summary>
    /// <exception cref="InvalidDataException">The stored model options differ from the model's (the message lists every difference), or the weights are corrupt.</exception>
    public static void LoadInto(GeoTokenModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (GeoTokenModelFolder.TryResolve(path, out string directory))
        {
            var config = GeoTokenModelFolder.ReadConfig(directory);
            RequireSameOptions(config.ConfigPath, config.Options, model.Options);
            GeoTokenModelFolder.LoadWeights(model, config);
            return;
        }

        var contents = ReadSingleFileHeader(path);
        RequireSameOptions(path, ReadOptions(contents), model.Options);
        CopyWeights(model, contents);
    }

    /// <summary>The options stored in a model folder, model file or checkpoint, without loading the weights.</summary>
    public static GeoTokenModelOptions ReadOptions(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return GeoTokenModelFolder.TryResolve(path, out string directory)
            ? GeoTokenModelFolder.ReadConfig(directory).Options
            : ReadOptions(ReadSingleFileHeader(path));
    }

    private static GeoTokenModel LoadChecked(string path, GeoTokenModelOptions? expected, Device? device)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        TorchRuntime.EnsureAvailable();
        bool folder = GeoTokenModelFolder.TryResolve(path, out string directory);
        var config = folder ? GeoTokenModelFolder.ReadConfig(directory) : null;
        var contents = folder ? null : ReadSingleFileHeader(path);
        var options = config?.Options ?? ReadOptions(contents!);
        if (expected is not null) RequireSameOptions(config?.ConfigPath ?? path, options, expected);
        var model = CreateWithoutTouchingRng(options);
        try
        {
            if (config is not null) GeoTokenModelFolder.LoadWeights(model, config);
            else CopyWeights(model, contents!);
            if (device is not null) model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static TensorFile.Contents ReadSingleFileHeader(string path) => File.Exists(path)
        ? TensorFile.ReadHeader(path)
        : throw new FileNotFoundException($"'{path}' is neither a model folder (config.json + model.safetensors) nor a .gtm model file: nothing is there.", path);

    internal static JsonObject CreateHeader(GeoTokenModel model, string kind)
    {
        var tokenizer = model.Tokenizer;
        return new JsonObject
        {
            ["kind"] = kind,
            ["producer"] = TensorFile.Producer,
            ["model"] = JsonSerializer.SerializeToNode(model.Options, Json),
            ["tokenizer"] = TokenizerNode(tokenizer),
            ["parameterCount"] = model.ParameterCount,
        };
    }

    internal static List<(string Name, Tensor Tensor)> ModelTensors(GeoTokenModel model) =>
        model.state_dict().Select(kv => (ModelPrefix + kv.Key, kv.Value)).ToList();

    internal static GeoTokenModelOptions ReadOptions(TensorFile.Contents contents)
    {
        string? kind = (string?)contents.Header["kind"];
        if (kind is not (KindModel or KindCheckpoint))
        {
            throw new InvalidDataException($"'{contents.Path}' is a GeoToken file of kind '{kind}'; expected '{KindModel}' or '{KindCheckpoint}'.");
        }

        return ReadOptions(contents.Header, contents.Path);
    }

    /// <summary>The model options of a header or config.json (its <c>model</c> and <c>tokenizer</c> sections), validated.</summary>
    internal static GeoTokenModelOptions ReadOptions(JsonObject header, string path)
    {
        GeoTokenModelOptions options;
        try
        {
            options = header["model"]?.Deserialize<GeoTokenModelOptions>(Json)
                ?? throw new InvalidDataException($"'{path}' has no model options.");
            options.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' has invalid model options: {e.Message}", e);
        }

        var stored = header["tokenizer"];
        var derived = TokenizerNode(new GeoTokenizer(options.Tokenizer));
        if (stored is null || !JsonNode.DeepEquals(stored, derived))
        {
            throw new InvalidDataException($"'{path}': the stored tokenizer section {stored?.ToJsonString() ?? "(missing)"} does not match the one its model options define, {derived.ToJsonString()}.");
        }

        return options;
    }

    internal static void RequireSameOptions(string path, GeoTokenModelOptions inFile, GeoTokenModelOptions expected)
    {
        var diffs = inFile.DescribeDifferences(expected);
        if (diffs.Count > 0)
        {
            throw new InvalidDataException(
                $"'{path}' was written for another model configuration (file ≠ expected): {string.Join("; ", diffs)}.");
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

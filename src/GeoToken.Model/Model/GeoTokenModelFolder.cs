using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.IO;
using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>
/// A model as a folder in the Hugging Face convention: <c>config.json</c> (format, options, tokenizer,
/// producer, parameter count, the weights file's name and SHA-256) and <c>model.safetensors</c> (the state
/// dict under <see cref="GeoTokenModel"/>'s names plus <c>positional_encoding</c>). See <see cref="GeoTokenModelFile"/>.
/// </summary>
internal static class GeoTokenModelFolder
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";
    public const string PositionalEncodingName = "positional_encoding";
    public const string Format = "geotoken-model";
    public const int FormatVersion = 1;

    private static readonly string[] ConfigKeys = ["format", "formatVersion", "kind", "producer", "model", "tokenizer", "parameterCount", "weights"];

    /// <summary>What a folder's <c>config.json</c> says.</summary>
    public sealed record Config(string ConfigPath, string WeightsPath, string Sha256, GeoTokenModelOptions Options, long ParameterCount);

    /// <summary>Whether <paramref name="path"/> names a model folder (the folder, its config.json or its model.safetensors); <paramref name="directory"/> is the folder.</summary>
    public static bool TryResolve(string path, out string directory)
    {
        directory = "";
        if (Directory.Exists(path))
        {
            directory = path;
            return true;
        }

        string name = Path.GetFileName(path);
        if ((name == ConfigFileName || name == WeightsFileName) && File.Exists(path))
        {
            directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Writes the folder. A new folder is written under a temporary name and renamed into place, so it appears
    /// complete or not at all; in an existing folder the weights then the configuration are each replaced atomically
    /// (a crash in between leaves a configuration whose checksum does not match, which loading reports).
    /// </summary>
    public static void Save(GeoTokenModel model, string directory)
    {
        directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (File.Exists(directory))
        {
            throw new IOException($"'{directory}' is a file; a model is saved as a folder (config.json + model.safetensors), or as one file with the .gtm extension.");
        }

        bool fresh = !Directory.Exists(directory);
        string target = fresh ? AtomicFile.TemporaryPathFor(directory) : directory;
        try
        {
            Directory.CreateDirectory(target);
            string sha256;
            using (var positions = model.GetPositionalEncoding())
            {
                var tensors = model.state_dict().Append(KeyValuePair.Create(PositionalEncodingName, positions));
                sha256 = SafeTensorsFile.Write(Path.Combine(target, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            }

            var config = new JsonObject { ["format"] = Format, ["formatVersion"] = FormatVersion };
            foreach (var (key, value) in GeoTokenModelFile.CreateHeader(model, GeoTokenModelFile.KindModel)) config[key] = value?.DeepClone();
            config["weights"] = new JsonObject { ["file"] = WeightsFileName, ["sha256"] = sha256 };
            AtomicFile.WriteAllText(Path.Combine(target, ConfigFileName), config.ToJsonString(GeoTokenModelFile.Json) + "\n");
            if (fresh) Directory.Move(target, directory);
        }
        catch
        {
            if (fresh) TryDeleteDirectory(target);
            throw;
        }
    }

    /// <summary>Reads and checks <c>config.json</c> (not the weights).</summary>
    /// <exception cref="InvalidDataException">The configuration is missing a field, has an unknown one, another format or version, or invalid options.</exception>
    public static Config ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{directory}' is not a GeoToken model folder: it has no {ConfigFileName}.", path);
        }

        JsonObject config;
        try
        {
            var info = new FileInfo(path);
            if (info.Length > 16 << 20) throw new InvalidDataException($"'{path}' is {info.Length} bytes; a model configuration is a few kilobytes.");
            config = JsonNode.Parse(File.ReadAllBytes(path))?.AsObject() ?? throw new InvalidDataException($"'{path}' is empty (null).");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a JSON object: {e.Message}", e);
        }

        try
        {
            if ((string?)Value(config, "format", path) is var format && format != Format)
            {
                // "geotoken-onnx" is GeoToken.Onnx's OnnxModelConfig.FormatName (not referenced from here).
                throw new InvalidDataException(format == "geotoken-onnx"
                    ? $"'{path}' is an ONNX export ('geotoken export onnx'), which runs on ONNX Runtime through GeoToken.Onnx (OnnxGeoTokenModel, OnnxGeoTokenSearch); this command needs the TorchSharp model folder it was exported from."
                    : $"'{path}' has format '{format}'; expected '{Format}'.");
            }

            int version = Value(config, "formatVersion", path).GetValue<int>();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"'{path}' has format version {version}; this library reads version {FormatVersion}.");
            }

            var unknown = config.Select(kv => kv.Key).Where(k => !ConfigKeys.Contains(k)).ToList();
            if (unknown.Count > 0) throw new InvalidDataException($"'{path}' has unknown field(s) {string.Join(", ", unknown)}.");
            if ((string?)config["kind"] != GeoTokenModelFile.KindModel)
            {
                throw new InvalidDataException($"'{path}' describes a '{config["kind"]}', not a '{GeoTokenModelFile.KindModel}'.");
            }

            var options = GeoTokenModelFile.ReadOptions(config, path);
            long parameters = Value(config, "parameterCount", path).GetValue<long>();
            var weights = Value(config, "weights", path) as JsonObject ?? throw new InvalidDataException($"'{path}': 'weights' is not an object.");
            string file = (string?)Value(weights, "file", path) ?? "";
            string sha256 = (string?)Value(weights, "sha256", path) ?? "";
            if (file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")
            {
                throw new InvalidDataException($"'{path}': the weights file '{file}' is not a file name in the model folder.");
            }

            if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
            {
                throw new InvalidDataException($"'{path}': the weights SHA-256 '{sha256}' is not 64 hexadecimal digits.");
            }

            return new Config(path, Path.Combine(directory, file), sha256, options, parameters);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"'{path}' has a field of the wrong type: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the weights the configuration names, checks their SHA-256, names, shapes and finiteness, and copies
    /// them (and the position table, when present) into <paramref name="model"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The checksum differs, a tensor is missing, unknown, of another shape or type, or not finite; the message names the file and the tensors.</exception>
    public static void LoadWeights(GeoTokenModel model, Config config)
    {
        if (config.ParameterCount != model.ParameterCount)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{config.ConfigPath}' records {config.ParameterCount} parameters but its model options define {model.ParameterCount}."));
        }

        string path = config.WeightsPath;
        if (!File.Exists(path)) throw new FileNotFoundException($"The model folder's weights '{path}' are missing.", path);
        using var weights = SafeTensorsFile.Read(path, config.Sha256);
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unknown = weights.Keys.Where(k => !state.ContainsKey(k) && k != PositionalEncodingName).ToList();
        if (missing.Count > 0 || unknown.Count > 0)
        {
            var problems = new List<string>();
            if (missing.Count > 0) problems.Add($"missing tensors: {TensorChecks.ListNames(missing)}");
            if (unknown.Count > 0) problems.Add($"unknown tensors: {TensorChecks.ListNames(unknown)}");
            throw new InvalidDataException($"'{path}' does not fit the model its configuration describes: {string.Join("; ", problems)}.");
        }

        foreach (var (name, target) in state)
        {
            var t = weights.Require(name, null, target.shape);
            TensorChecks.RequireFinite(t, path, name);
        }

        using var noGrad = no_grad();
        if (weights.ContainsKey(PositionalEncodingName))
        {
            var table = weights.Require(PositionalEncodingName, null, model.PositionalEncodingLength, model.Options.ModelDimension);
            TensorChecks.RequireFinite(table, path, PositionalEncodingName);
            try
            {
                // Within the rounding of the stored type: sinusoids are at most 1 in magnitude.
                double tolerance = table.dtype switch { ScalarType.BFloat16 => 4e-3, ScalarType.Float16 => 1e-3, _ => 1e-4 };
                model.SetPositionalEncoding(table, tolerance);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}': tensor '{PositionalEncodingName}' is not this model's position table: {e.Message}", e);
            }
        }

        foreach (var (name, target) in state) target.copy_(weights[name]);
    }

    private static JsonNode Value(JsonObject o, string key, string path) =>
        o[key] ?? throw new InvalidDataException($"'{path}' has no '{key}'.");

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

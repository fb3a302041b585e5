using System.Globalization;
using System.Text.Json.Nodes;
using GeoToken.IO;
using GeoToken.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Reranking;

/// <summary>
/// Saves and loads <see cref="RewardHead"/>s in the GeoToken tensor-file container (kind <c>"reward-head"</c>):
/// the model width, the threshold, the head's shape (hidden width, output; files without them are the default shape), the
/// weights, and a fine-tuned head's <see cref="RewardHead.ScorerModel"/> (its options and weights). Written atomically.
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
            ["producer"] = TensorFile.Producer,
            ["model_dimension"] = head.ModelDimension,
            ["threshold_km"] = head.ThresholdKm,
            ["hidden_dimension"] = head.HiddenDimension,
            ["output"] = head.Output.ToString(),
        };
        if (head.ScorerModel is { } scorer)
        {
            var model = GeoTokenModelFile.CreateHeader(scorer, GeoTokenModelFile.KindModel);
            header["scorer_model"] = new JsonObject { ["model"] = model["model"]!.DeepClone(), ["tokenizer"] = model["tokenizer"]!.DeepClone() };
        }

        TensorFile.Write(path, header, head.state_dict().Select(kv => (Prefix + kv.Key, kv.Value)).ToList());
    }

    /// <summary>Loads a head saved by <see cref="Save"/> onto <paramref name="device"/> (CPU when null), in evaluation mode.</summary>
    /// <exception cref="InvalidDataException">The file is not a reward head or its weights do not fit its settings.</exception>
    public static RewardHead Load(string path, Device? device = null)
    {
        TorchRuntime.EnsureAvailable();
        var contents = TensorFile.ReadHeader(path, Kind, "reward head");

        int d = (int?)contents.Header["model_dimension"] ?? throw new InvalidDataException($"'{path}' has no model_dimension.");
        double threshold = (double?)contents.Header["threshold_km"] ?? throw new InvalidDataException($"'{path}' has no threshold_km.");
        int hidden = (int?)contents.Header["hidden_dimension"] ?? d;
        string outputName = (string?)contents.Header["output"] ?? nameof(RewardHeadOutput.Logit);
        if (!Enum.TryParse<RewardHeadOutput>(outputName, out var output) || !Enum.IsDefined(output))
        {
            throw new InvalidDataException($"'{path}' has output '{outputName}'; expected {string.Join(" or ", Enum.GetNames<RewardHeadOutput>())}.");
        }

        RewardHead head;
        try
        {
            head = new RewardHead(d, threshold, hidden, output);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}' has invalid reward head settings (d = {d}, hidden {hidden}, threshold {threshold} km): {e.Message}"), e);
        }

        if (contents.Header["scorer_model"] is JsonObject scorerNode)
        {
            GeoTokenModel? scorer = null;
            try
            {
                scorer = GeoTokenModelFile.CreateWithoutTouchingRng(GeoTokenModelFile.ReadOptions(scorerNode, path + " (scorer_model)"));
                head.AttachScorer(scorer);
            }
            catch (Exception e)
            {
                if (head.ScorerModel is null) scorer?.Dispose();
                head.Dispose();
                if (e is ArgumentException) throw new InvalidDataException($"'{path}': {e.Message}", e);
                throw;
            }
        }

        return TensorFile.LoadModule(contents, head, Prefix, "its reward head options", device); // evaluation mode: also the scorer model
    }
}

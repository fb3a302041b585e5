using System.Globalization;
using GeoToken.IO;
using static TorchSharp.torch;

namespace GeoToken.Reranking;

/// <summary>
/// Builds GeoCLIP's exact model as a <see cref="SimilarityModel"/> (<see cref="SimilarityLocationInput.EqualEarth"/>)
/// from GeoCLIP's three published state dicts: the image MLP, the location encoder and the logit scale.
/// </summary>
/// <remarks>
/// <para>
/// Expected tensors (GeoCLIP's names; sizes are read from the tensors, GeoCLIP's are in brackets):
/// image MLP <c>0.weight</c> [H, F] ([768, 768]), <c>0.bias</c> [H], <c>2.weight</c> [D, H] ([512, 768]),
/// <c>2.bias</c> [D]; location encoder, for i = 0, 1, 2 (σ = 2⁰, 2⁴, 2⁸): <c>LocEnc{i}.capsule.0.b</c> [R, 2]
/// ([256, 2], the fixed random Fourier frequencies), <c>LocEnc{i}.capsule.1.weight</c> [W, 2R] ([1024, 512]),
/// <c>LocEnc{i}.capsule.3.weight</c> and <c>LocEnc{i}.capsule.5.weight</c> [W, W], <c>LocEnc{i}.head.0.weight</c>
/// [D, W], each with its bias; logit scale: one tensor with one element (GeoCLIP saves a bare 0-d tensor).
/// </para>
/// <para>
/// Anything else is rejected with a message naming the source and the tensor: a missing or extra tensor, another
/// shape or a non-floating type, non-finite values, frequencies whose spread does not fit their capsule's σ (a
/// sign of capsules in another order), or a logit scale above the model's cap ln 100.
/// </para>
/// </remarks>
public static class GeoClipImporter
{
    /// <summary>GeoCLIP's file name of the image MLP's state dict.</summary>
    public const string ImageMlpFileName = "image_encoder_mlp_weights.pth";

    /// <summary>GeoCLIP's file name of the location encoder's state dict.</summary>
    public const string LocationEncoderFileName = "location_encoder_weights.pth";

    /// <summary>GeoCLIP's file name of the logit scale.</summary>
    public const string LogitScaleFileName = "logit_scale_weights.pth";

    /// <summary>GeoCLIP's random Fourier feature scales, one location capsule each.</summary>
    public static IReadOnlyList<double> Scales { get; } = [1, 16, 256];

    private static readonly string[] CapsuleLayers = ["capsule.1", "capsule.3", "capsule.5", "head.0"];

    /// <summary>
    /// Reads GeoCLIP's three weight files from <paramref name="directory"/> (<see cref="ImageMlpFileName"/>,
    /// <see cref="LocationEncoderFileName"/>, <see cref="LogitScaleFileName"/>, as in GeoCLIP's <c>geoclip/model/weights</c>)
    /// with <see cref="PyTorchCheckpoint.Read"/> and builds the model (<see cref="Import(StateDict, StateDict, StateDict)"/>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the three files is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is not a readable checkpoint or does not hold GeoCLIP's tensors; the message names the file and the tensor.</exception>
    public static SimilarityModel ImportDirectory(string directory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"GeoCLIP weights folder not found: {directory}");
        string Required(string name)
        {
            string path = Path.Combine(directory, name);
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"GeoCLIP weights folder {directory} has no {name} (it needs {ImageMlpFileName}, {LocationEncoderFileName} and {LogitScaleFileName}).", path);
        }

        string imagePath = Required(ImageMlpFileName), locationPath = Required(LocationEncoderFileName), scalePath = Required(LogitScaleFileName);
        using var image = PyTorchCheckpoint.Read(imagePath, cancellationToken: cancellationToken);
        using var location = PyTorchCheckpoint.Read(locationPath, cancellationToken: cancellationToken);
        using var scale = PyTorchCheckpoint.Read(scalePath, cancellationToken: cancellationToken);
        return Import(image, location, scale);
    }

    /// <summary>Builds the model from the three state dicts (the tensors are copied; the dicts stay the caller's).</summary>
    /// <param name="imageMlp">GeoCLIP's <c>image_encoder.mlp</c> state dict.</param>
    /// <param name="locationEncoder">GeoCLIP's <c>location_encoder</c> state dict.</param>
    /// <param name="logitScale">A state dict holding GeoCLIP's logit scale as its only tensor.</param>
    /// <returns>The model, on the CPU, in evaluation mode.</returns>
    /// <exception cref="InvalidDataException">A tensor is missing, extra, of the wrong shape or type, or has unusable values; the message names it.</exception>
    public static SimilarityModel Import(StateDict imageMlp, StateDict locationEncoder, StateDict logitScale)
    {
        ArgumentNullException.ThrowIfNull(imageMlp);
        ArgumentNullException.ThrowIfNull(locationEncoder);
        ArgumentNullException.ThrowIfNull(logitScale);

        // The image MLP fixes F, H and D.
        var fc1 = imageMlp.Require("0.weight", null, -1, -1);
        long hidden = fc1.shape[0], features = fc1.shape[1];
        var fc2 = imageMlp.Require("2.weight", null, -1, hidden);
        long embedding = fc2.shape[0];
        var map = new Dictionary<string, (StateDict Source, string Name, Tensor Tensor)>(StringComparer.Ordinal)
        {
            ["image.fc1.weight"] = (imageMlp, "0.weight", fc1),
            ["image.fc1.bias"] = (imageMlp, "0.bias", imageMlp.Require("0.bias", null, hidden)),
            ["image.fc2.weight"] = (imageMlp, "2.weight", fc2),
            ["image.fc2.bias"] = (imageMlp, "2.bias", imageMlp.Require("2.bias", null, embedding)),
        };
        RejectOthers(imageMlp, ["0.weight", "0.bias", "2.weight", "2.bias"]);

        // The location encoder: three capsules of equal shape.
        var first = locationEncoder.Require("LocEnc0.capsule.0.b", null, -1, 2);
        long frequencies = first.shape[0];
        long width = locationEncoder.Require("LocEnc0.capsule.1.weight", null, -1, 2 * frequencies).shape[0];
        var expected = new List<string>();
        for (int i = 0; i < Scales.Count; i++)
        {
            string prefix = $"LocEnc{i}.";
            string bName = prefix + "capsule.0.b";
            var b = locationEncoder.Require(bName, null, frequencies, 2);
            CheckSpread(locationEncoder, bName, b, Scales[i]);
            map[$"location.frequencies_{i}"] = (locationEncoder, bName, b);
            expected.Add(bName);
            long inWidth = 2 * frequencies;
            for (int j = 0; j < CapsuleLayers.Length; j++)
            {
                long outWidth = j == CapsuleLayers.Length - 1 ? embedding : width;
                string w = prefix + CapsuleLayers[j] + ".weight", bias = prefix + CapsuleLayers[j] + ".bias";
                map[$"location.branches.{i}.layers.{j}.weight"] = (locationEncoder, w, locationEncoder.Require(w, null, outWidth, inWidth));
                map[$"location.branches.{i}.layers.{j}.bias"] = (locationEncoder, bias, locationEncoder.Require(bias, null, outWidth));
                expected.Add(w);
                expected.Add(bias);
                inWidth = outWidth;
            }
        }

        RejectOthers(locationEncoder, expected);

        // The logit scale: one element, finite, within the cap (above it the model would clamp and differ from GeoCLIP).
        if (logitScale.Count != 1)
        {
            throw new InvalidDataException($"{Describe(logitScale)} holds {logitScale.Count} tensors ({string.Join(", ", logitScale.Keys.Select(k => $"'{k}'"))}); GeoCLIP's logit scale file holds one scalar.");
        }

        var (scaleName, scale) = logitScale.First();
        if (scale.numel() != 1 || !is_floating_point(scale))
        {
            throw new InvalidDataException($"{Describe(logitScale)}: tensor '{scaleName}' is {scale.dtype} [{string.Join(", ", scale.shape)}]; the logit scale is one floating-point number.");
        }

        double scaleValue;
        using (NewDisposeScope()) scaleValue = scale.to_type(ScalarType.Float64).cpu().item<double>();
        if (!double.IsFinite(scaleValue) || scaleValue > SimilarityModel.MaxLogitScale)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{Describe(logitScale)}: the logit scale '{scaleName}' is {scaleValue}; it must be finite and at most ln 100 = {SimilarityModel.MaxLogitScale:F4}."));
        }

        map["logit_scale"] = (logitScale, scaleName, scale);

        var options = SimilarityModelOptions.GeoClipEqualEarth with
        {
            FeatureDimension = checked((int)features),
            ImageHiddenDimension = checked((int)hidden),
            EmbeddingDimension = checked((int)embedding),
            LocationHiddenDimension = checked((int)width),
            LocationHiddenLayers = CapsuleLayers.Length - 1,
            FourierFeatures = checked((int)frequencies),
            Scales = Scales,
        };
        var model = new SimilarityModel(options);
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, target) in model.state_dict())
            {
                if (!map.TryGetValue(name, out var source))
                {
                    throw new InvalidOperationException($"GeoClipImporter has no source for the model's tensor '{name}' (a bug: the model and the importer disagree).");
                }

                using var step = NewDisposeScope();
                if (!source.Tensor.isfinite().all().item<bool>())
                {
                    throw new InvalidDataException($"{Describe(source.Source)}: tensor '{source.Name}' has NaN or infinite values.");
                }

                target.copy_(source.Tensor.reshape(target.shape));
            }

            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static void RejectOthers(StateDict dict, IReadOnlyCollection<string> expected)
    {
        var known = new HashSet<string>(expected, StringComparer.Ordinal);
        var extra = dict.Keys.Where(k => !known.Contains(k)).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException(
                $"{Describe(dict)} has {extra.Count} tensor(s) GeoCLIP's layout does not have: {string.Join(", ", extra.Take(5).Select(k => $"'{k}'"))}{(extra.Count > 5 ? ", …" : "")}.");
        }
    }

    /// <summary>
    /// Frequencies are drawn N(0, σ²): with 2R ≥ 64 entries their RMS lies within a factor 2 of σ with overwhelming
    /// probability, while the capsules' σ differ by a factor 16, so a capsule in the wrong place is caught.
    /// </summary>
    private static void CheckSpread(StateDict dict, string name, Tensor b, double sigma)
    {
        if (b.numel() < 64) return;
        using var scope = NewDisposeScope();
        double rms = b.to_type(ScalarType.Float64).square().mean().sqrt().cpu().item<double>();
        if (!(rms >= sigma / 2 && rms <= sigma * 2))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{Describe(dict)}: tensor '{name}' has RMS {rms:G4}, which does not fit GeoCLIP's σ = {sigma} for that capsule (expected within a factor 2)."));
        }
    }

    private static string Describe(StateDict dict) => dict.Source is null ? "the state dict" : $"'{dict.Source}'";
}

using System.Globalization;
using GeoToken.Reranking;
using Microsoft.Extensions.Options;

namespace GeoToken.Hosting.Locating;

/// <summary>
/// Checks <see cref="GeoLocatorOptions"/> before anything is loaded: required paths given and present, encoders with a
/// known preprocessing, a known reranker (and the reward head it needs), settings in range. Every failure is listed.
/// </summary>
public sealed class GeoLocatorOptionsValidator : IValidateOptions<GeoLocatorOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, GeoLocatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Fail(FormattableString message) => failures.Add(message.ToString(CultureInfo.InvariantCulture));

        if (string.IsNullOrWhiteSpace(options.ModelPath)) Fail($"GeoLocatorOptions.ModelPath is empty: give the model (a model folder, its config.json or a .gtm file, or a folder written by geotoken export onnx).");
        else if (!File.Exists(options.ModelPath) && !Directory.Exists(options.ModelPath)) Fail($"GeoLocatorOptions.ModelPath: {Path.GetFullPath(options.ModelPath)} does not exist.");
        if (string.IsNullOrWhiteSpace(options.GalleryDirectory)) Fail($"GeoLocatorOptions.GalleryDirectory is empty: give the gallery dataset folder.");
        else if (!Directory.Exists(options.GalleryDirectory)) Fail($"GeoLocatorOptions.GalleryDirectory: {Path.GetFullPath(options.GalleryDirectory)} does not exist.");
        if (options.IndexPath is { } index && !File.Exists(index)) Fail($"GeoLocatorOptions.IndexPath: {Path.GetFullPath(index)} does not exist.");
        if (options.Encoders is null || options.Encoders.Count == 0) Fail($"GeoLocatorOptions.Encoders is empty: give the ONNX image encoder (one per feature view the model reads).");
        for (int i = 0; i < (options.Encoders?.Count ?? 0); i++)
        {
            var e = options.Encoders![i];
            if (e is null || string.IsNullOrWhiteSpace(e.Path)) Fail($"GeoLocatorOptions.Encoders[{i}].Path is empty.");
            else if (!File.Exists(e.Path)) Fail($"GeoLocatorOptions.Encoders[{i}].Path: {Path.GetFullPath(e.Path)} does not exist.");
            if (e is not null && GeoLocatorEncoderOptions.FindPreprocessing(e.Preprocessing) is null)
            {
                Fail($"GeoLocatorOptions.Encoders[{i}].Preprocessing is '{e.Preprocessing}'; use {string.Join(", ", GeoLocatorEncoderOptions.PreprocessingNames)}.");
            }
        }

        if (!StandardRerankers.Names.Contains(options.Reranker, StringComparer.OrdinalIgnoreCase))
        {
            Fail($"GeoLocatorOptions.Reranker is '{options.Reranker}'; use {string.Join(", ", StandardRerankers.Names)}.");
        }
        else if (string.Equals(options.Reranker, RewardReranker.ScorerName, StringComparison.OrdinalIgnoreCase) && options.RewardHeadPath is null)
        {
            Fail($"GeoLocatorOptions.Reranker is 'reward' but RewardHeadPath is not set (geotoken reward writes the head).");
        }

        if (options.RewardHeadPath is { } reward && !File.Exists(reward)) Fail($"GeoLocatorOptions.RewardHeadPath: {Path.GetFullPath(reward)} does not exist.");
        if (options.Samples < 0) Fail($"GeoLocatorOptions.Samples is {options.Samples}; it must be 0 or more.");
        if (!(options.Temperature > 0) || !double.IsFinite(options.Temperature)) Fail($"GeoLocatorOptions.Temperature is {options.Temperature}; it must be positive.");
        if (!(options.UncertaintyMass > 0 && options.UncertaintyMass <= 1)) Fail($"GeoLocatorOptions.UncertaintyMass is {options.UncertaintyMass}; it must be in (0, 1].");
        else if (options.Calibration is { } c && Math.Abs(c.NominalMass - options.UncertaintyMass) > 1e-9) Fail($"GeoLocatorOptions.Calibration was fitted for mass {c.NominalMass} but UncertaintyMass is {options.UncertaintyMass}.");
        if (options.BatchSize < 1) Fail($"GeoLocatorOptions.BatchSize is {options.BatchSize}; it must be at least 1.");
        if (string.IsNullOrWhiteSpace(options.Device)) Fail($"GeoLocatorOptions.Device is empty (cpu, cuda or cuda:N).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

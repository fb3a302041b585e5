using System.CommandLine;
using System.Globalization;
using GeoToken.Model.Reranking;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken import</c>: models published by others, converted to GeoToken files.</summary>
internal static class ImportCommand
{
    public static Command Create() => new("import", "Convert published model weights to GeoToken files.")
    {
        GeoClip(),
    };

    private static Command GeoClip()
    {
        var weights = new Option<DirectoryInfo>("--weights")
        {
            Description = $"Folder with GeoCLIP's {GeoClipImporter.ImageMlpFileName}, {GeoClipImporter.LocationEncoderFileName} and {GeoClipImporter.LogitScaleFileName} (geoclip/model/weights).",
            Required = true,
        };
        var output = new Option<FileInfo>("--out") { Description = "Similarity model file to write (use with embed, eval/predict --similarity).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var cmd = new Command("geoclip", "GeoCLIP's image MLP, location encoder (Equal Earth input) and logit scale as a similarity model.")
        {
            weights, output, force,
        };
        cmd.SetAction((parse, ct) =>
        {
            string path = parse.GetValue(output)!.FullName;
            OutputFile.RefuseOverwrite(path, parse.GetValue(force));
            using var model = GeoClipImporter.ImportDirectory(parse.GetValue(weights)!.FullName, ct);
            SimilarityModelFile.Save(model, path);
            var o = model.Options;
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"similarity model: {path}; GeoCLIP, {o.FeatureDimension}-d image features → {o.EmbeddingDimension}-d embeddings, Equal Earth location input, {o.Scales.Count} Fourier scales, temperature {model.Temperature:G4}"));
            return Task.FromResult(0);
        });
        return cmd;
    }
}

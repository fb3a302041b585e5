using System.CommandLine;
using System.Globalization;
using GeoToken.IO;
using GeoToken.Model;
using GeoToken.Model.Import;
using GeoToken.Reranking;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken import</c>: models published by other implementations, converted to GeoToken files.</summary>
internal static class ImportCommand
{
    public static Command Create() => new Command("import", "Convert model weights published by other implementations (PyTorch) to GeoToken files.")
    {
        Reference(),
        GeoClip(),
    }.WithExamples("geotoken import reference --checkpoint geotoken.pth --out M", "geotoken import geoclip --weights geoclip/model/weights --out geoclip.gts");

    /// <summary><c>geotoken import reference</c>: a checkpoint of the GeoToken reference implementation.</summary>
    private static Command Reference()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "The reference model's state dict, as torch.save wrote it (.pth).", Required = true, HelpName = "X.pth" };
        var output = new Option<FileInfo>("--out") { Description = "The GeoToken model to write (a folder; a path ending in .gtm writes one file).", Required = true, HelpName = "M" };
        var heads = new Option<int>("--heads") { HelpName = "N", Description = "Attention heads of the checkpoint's model (a state dict does not record them).", DefaultValueFactory = _ => 8 };
        var neighbors = new Option<int>("--neighbors") { HelpName = "K", Description = "Retrieved neighbors per query the model reads (the reference uses 15).", DefaultValueFactory = _ => 15 };
        var key = new Option<string?>("--key") { HelpName = "KEY/KEY…", Description = "Path of keys to the state dict inside the checkpoint, separated by '/' (e.g. state_dict); default: found automatically." };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var cmd = new Command("reference", "Import a checkpoint of the GeoToken reference implementation (GeoTransformerModelS2, github NNargesNN/GeoToken).")
        {
            checkpoint, output, heads, neighbors, key, force,
        };
        cmd.SetAction((parse, ct) =>
        {
            string outPath = parse.GetValue(output)!.FullName;
            OutputFile.RefuseOverwrite(outPath, parse.GetValue(force));
            var readOptions = new PyTorchCheckpointOptions { KeyPath = parse.GetValue(key)?.Split('/', StringSplitOptions.RemoveEmptyEntries) };
            using var state = PyTorchCheckpoint.Read(parse.GetValue(checkpoint)!.FullName, readOptions, ct);
            var result = ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = parse.GetValue(heads), NeighborCount = parse.GetValue(neighbors) });
            using var model = result.Model;
            GeoTokenModelFile.Save(model, outPath);
            var o = parse.InvocationConfiguration.Output;
            var m = model.Options;
            o.WriteLine($"{outPath}: d {m.ModelDimension}, {m.HeadCount} heads, ff {m.FeedForwardDimension}, {m.EncoderLayers} + {m.DecoderLayers} layers, {m.ModalityCount} views of {m.FeatureDimension}, k {m.NeighborCount}, S2 level {m.Tokenizer.Level} in groups of {m.Tokenizer.GroupSize}; {model.ParameterCount:N0} parameters");
            o.WriteLine($"ignored (unused by the reference's forward pass): {string.Join(", ", result.IgnoredTensors)}");
            return Task.FromResult(0);
        });
        return cmd.WithExamples("geotoken import reference --checkpoint geotoken.pth --out M --heads 8 --neighbors 15", "geotoken import reference --checkpoint run.pth --out M.gtm --key state_dict --force");
    }

    /// <summary><c>geotoken import geoclip</c>: GeoCLIP's three published weight files as a similarity model.</summary>
    private static Command GeoClip()
    {
        var weights = new Option<DirectoryInfo>("--weights")
        {
            Description = $"Folder with GeoCLIP's {GeoClipImporter.ImageMlpFileName}, {GeoClipImporter.LocationEncoderFileName} and {GeoClipImporter.LogitScaleFileName} (geoclip/model/weights).",
            Required = true,
            HelpName = "DIR",
        };
        var output = new Option<FileInfo>("--out") { Description = "Similarity model file to write (use with embed, eval/predict --similarity).", Required = true, HelpName = "S.gts" };
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
        return cmd.WithExamples("geotoken import geoclip --weights geoclip/model/weights --out geoclip.gts");
    }
}

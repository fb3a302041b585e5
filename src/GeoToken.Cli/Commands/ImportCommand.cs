using System.CommandLine;
using GeoToken.Model;
using GeoToken.Model.Import;
using GeoToken.Model.IO;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken import reference</c>: a PyTorch checkpoint of the GeoToken reference implementation into a GeoToken model file.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "The reference model's state dict, as torch.save wrote it (.pth).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The GeoToken model file to write.", Required = true };
        var heads = new Option<int>("--heads") { Description = "Attention heads of the checkpoint's model (a state dict does not record them).", DefaultValueFactory = _ => 8 };
        var neighbors = new Option<int>("--neighbors") { Description = "Retrieved neighbours per query the model reads (the reference uses 15).", DefaultValueFactory = _ => 15 };
        var key = new Option<string?>("--key") { Description = "Path of keys to the state dict inside the checkpoint, separated by '/' (e.g. state_dict); default: found automatically." };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var reference = new Command("reference", "Import a checkpoint of the GeoToken reference implementation (GeoTransformerModelS2, github.com/NNargesNN/GeoToken).")
        {
            checkpoint, output, heads, neighbors, key, force,
        };
        reference.SetAction((parse, ct) =>
        {
            string outPath = parse.GetValue(output)!.FullName;
            OutputGuard.RefuseToOverwrite(outPath, parse.GetValue(force));
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
        return new Command("import", "Import models from other implementations.") { reference };
    }
}

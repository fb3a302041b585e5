using System.CommandLine;
using GeoToken.Model;
using GeoToken.Model.Import;
using GeoToken.Model.IO;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken export pytorch</c>: a GeoToken model file as a state dict of the reference implementation's model.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var modelPath = new Option<FileInfo>("--model") { Description = "The GeoToken model file (post-norm, paper layout, no copy head, 3 views of 768).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The .pth file to write (torch.save format; GeoTransformerModelS2.load_state_dict(strict=True) accepts it).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var pytorch = new Command("pytorch", "Write the model as a PyTorch state dict of the GeoToken reference implementation (GeoTransformerModelS2).")
        {
            modelPath, output, force,
        };
        pytorch.SetAction((parse, ct) =>
        {
            string outPath = parse.GetValue(output)!.FullName;
            OutputFile.RefuseOverwrite(outPath, parse.GetValue(force));
            using var model = GeoTokenModelFile.Load(parse.GetValue(modelPath)!.FullName);
            ct.ThrowIfCancellationRequested();
            using var state = ReferenceCheckpoint.Export(model);
            PyTorchCheckpoint.Write(outPath, state);
            parse.InvocationConfiguration.Output.WriteLine($"{outPath}: {state.Count} tensors in the reference layout (unused similarity_embedding, metadata_proj and coord_head written as zeros)");
            return Task.FromResult(0);
        });
        return new Command("export", "Export models for other implementations.") { pytorch };
    }
}

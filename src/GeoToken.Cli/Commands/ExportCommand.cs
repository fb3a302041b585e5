using System.CommandLine;
using System.Globalization;
using GeoToken.IO;
using GeoToken.Model;
using GeoToken.Model.Import;
using GeoToken.Onnx.Export;
using GeoToken.Onnx.Inference;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken export</c>: GeoToken models in other formats (PyTorch state dicts, ONNX graphs).</summary>
internal static class ExportCommand
{
    public static Command Create() => new Command("export", "Write a GeoToken model in another format.")
    {
        PyTorch(),
        Onnx(),
    }.WithExamples("geotoken export onnx --model M --out M-onnx", "geotoken export pytorch --model M --out geotoken.pth");

    /// <summary><c>geotoken export pytorch</c>: a state dict of the reference implementation's model.</summary>
    private static Command PyTorch()
    {
        var modelPath = new Option<FileInfo>("--model") { Description = "The GeoToken model (post-norm, paper layout, no copy head, 3 views of 768).", Required = true, HelpName = "M" };
        var output = new Option<FileInfo>("--out") { Description = "The .pth file to write (torch.save format; GeoTransformerModelS2.load_state_dict(strict=True) accepts it).", Required = true, HelpName = "X.pth" };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var cmd = new Command("pytorch", "Write the model as a PyTorch state dict of the GeoToken reference implementation (GeoTransformerModelS2).")
        {
            modelPath, output, force,
        };
        cmd.SetAction((parse, ct) =>
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
        return cmd.WithExamples("geotoken export pytorch --model M --out geotoken.pth", "geotoken export pytorch --model M.gtm --out geotoken.pth --force");
    }

    /// <summary><c>geotoken export onnx</c>: the encoder and one cached decoding step as ONNX graphs.</summary>
    private static Command Onnx()
    {
        var model = new Option<FileInfo>("--model") { Description = "GeoToken model (geotoken train, geotoken import reference).", Required = true, HelpName = "M" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write encoder.onnx, decoder_step.onnx and config.json into (created if missing).", Required = true, HelpName = "DIR" };
        var force = new Option<bool>("--force") { Description = "Replace the files of an earlier export in --out." };
        var cmd = new Command("onnx", "The transformer as ONNX graphs (encoder, one cached decoding step) for ONNX Runtime, without libtorch.")
        {
            model, output, force,
        };
        cmd.SetAction((parse, ct) =>
        {
            string dir = parse.GetValue(output)!.FullName;
            bool overwrite = parse.GetValue(force);
            foreach (var file in new[] { "encoder.onnx", "decoder_step.onnx", OnnxModelConfig.FileName })
            {
                OutputFile.RefuseOverwrite(Path.Combine(dir, file), overwrite);
            }

            using var loaded = GeoTokenModelFile.Load(parse.GetValue(model)!.FullName);
            loaded.eval();
            var config = GeoTokenOnnxExporter.Export(loaded, dir, new OnnxExportOptions { Overwrite = overwrite }, ct);
            long bytes = new[] { config.Encoder.File, config.DecoderStep.File }.Sum(f => new FileInfo(Path.Combine(dir, f)).Length);
            var o = config.Model;
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ONNX export: {dir}; opset {config.Opset}, d {o.ModelDimension}, {o.EncoderLayers} + {o.DecoderLayers} layers, {o.ContextLayout} layout, {o.NormOrder}-norm, copy head {(o.NeighborCopy ? "on" : "off")}, {bytes / 1e6:F1} MB of graphs"));
            return Task.FromResult(0);
        });
        return cmd.WithExamples("geotoken export onnx --model M --out M-onnx", "geotoken export onnx --model S/small.gtm --out small-onnx --force");
    }
}

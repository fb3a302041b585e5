using System.CommandLine;
using System.Globalization;
using GeoToken.Model;
using GeoToken.Onnx.Export;
using GeoToken.Onnx.Inference;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken export</c>: GeoToken models in other formats.</summary>
internal static class ExportCommand
{
    public static Command Create() => new("export", "Write a GeoToken model in another format.")
    {
        Onnx(),
    };

    private static Command Onnx()
    {
        var model = new Option<FileInfo>("--model") { Description = "GeoToken model (geotoken train).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write encoder.onnx, decoder_step.onnx and config.json into (created if missing).", Required = true };
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
        return cmd;
    }
}

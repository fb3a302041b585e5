using System.CommandLine;
using System.Globalization;
using GeoToken.Model;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken convert</c>: rewrite a model in the model-folder format (config.json + model.safetensors).</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var model = ModelSetting.Create("The model to convert: a .gtm file or checkpoint (or a model folder).");
        var output = new Option<FileInfo>("--out")
        {
            HelpName = "FILE", Description = "The model folder to write (config.json + model.safetensors); a path ending in .gtm writes the single-file format instead.",
            Required = true,
        };
        var force = new Option<bool>("--force") { Description = "Replace an existing output." };
        var cmd = new Command("convert", "Convert a model to the model-folder format (safetensors weights + JSON config, readable by any safetensors tool); every weight is checked on the way.")
        {
            model, output, force,
        };
        cmd.SetAction(parse =>
        {
            string source = parse.GetValue(model)!.FullName;
            string target = Path.TrimEndingDirectorySeparator(parse.GetValue(output)!.FullName);
            if (string.Equals(Path.TrimEndingDirectorySeparator(source), target, StringComparison.Ordinal))
            {
                throw new CliUsageException("--out must differ from --model.");
            }

            OutputFile.RefuseOverwrite(target, parse.GetValue(force));

            using var loaded = GeoTokenModelFile.Load(source);
            GeoTokenModelFile.Save(loaded, target);
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model: {target} ({(GeoTokenModelFile.IsSingleFilePath(target) ? ".gtm file" : "model folder")}, {loaded.ParameterCount:N0} parameters) from {source}"));
            return 0;
        });
        return cmd.WithExamples("geotoken convert --model old.gtm --out model", "geotoken convert --model model --out model.gtm --force");
    }
}

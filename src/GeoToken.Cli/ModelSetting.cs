using System.CommandLine;

namespace GeoToken.Cli;

/// <summary>The <c>--model</c> option of the commands that use a trained model: a model folder or a <c>.gtm</c> file.</summary>
internal static class ModelSetting
{
    public static Option<FileInfo> Create(string description = "Trained model (geotoken train): a model folder (config.json + model.safetensors), its config.json, or a .gtm file.") =>
        new("--model") { HelpName = "DIR|M.gtm", Description = description, Required = true };
}

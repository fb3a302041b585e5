using System.CommandLine;
using GeoToken.Cli.Torch;
using GeoToken.Model;
using TorchSharp;

namespace GeoToken.Cli.Commands;

/// <summary><c>geotoken setup torch</c>: bring libtorch for this platform (the torch verbs need it).</summary>
internal static class SetupCommand
{
    public static Command Create()
    {
        var backend = new Option<string>("--backend") { Description = "cpu, or cuda (NVIDIA GPU; linux-x64 and win-x64).", DefaultValueFactory = _ => "cpu" }.OneOf("cpu", "cuda");
        var torchCmd = new Command("torch", "Restore libtorch for this platform from NuGet (with your package sources) and record where it is; train, eval, predict, export and the other model verbs load it from there.")
        {
            backend,
        };
        torchCmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var record = await LibTorchSetup.RunAsync(parse.GetValue(backend)!.ToLowerInvariant(), parse.InvocationConfiguration.Error, ct).ConfigureAwait(false);

            // Prove it: load libtorch from the recorded folder, as a torch verb will.
            TorchRuntime.EnsureAvailable();
            string cuda = record.Backend == "cuda" ? (torch.cuda.is_available() ? ", CUDA available" : ", but no CUDA device is available") : "";
            await output.WriteLineAsync($"libtorch {record.LibTorchVersion} ({record.Backend}, {record.RuntimeIdentifier}) is set up{cuda}: {record.Directory}").ConfigureAwait(false);
            return 0;
        });
        return new Command("setup", "Set up what some verbs need beyond the tool.") { torchCmd.WithExamples("geotoken setup torch", "geotoken setup torch --backend cuda") }.WithExamples("geotoken setup torch");
    }
}

using System.CommandLine;
using GeoToken.Cli.Commands;
using GeoToken.IO;

namespace GeoToken.Cli;

/// <summary>The <c>geotoken</c> command tree.</summary>
internal static class GeoTokenCli
{
    /// <summary>Builds the root command.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("GeoToken.NET: where on Earth was this photo taken? S2 cell tokens, retrieval and a transformer.")
        {
            S2Command.Create(),
            MetricsCommand.Create(),
            CompareCommand.Create(),
            SynthCommand.Create(),
            IndexCommand.Create(),
            RetrieveCommand.Create(),
            TrainCommand.Create(),
            EvalCommand.Create(),
            PredictCommand.Create(),
            GalleryCommand.Create(),
            RewardCommand.Create(),
            SimilarityCommand.Create(),
            ImportCommand.Create(),
            ExportCommand.Create(),
        };
        return root;
    }

    /// <summary>Parses and runs; user errors print one clear line and return 1 (no stack trace).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return await Build().Parse(args).InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUserError(e))
        {
            await error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is CsvFormatException or FormatException or ArgumentException or IOException or InvalidDataException
            or UnauthorizedAccessException or CliUsageException or InvalidOperationException;
}

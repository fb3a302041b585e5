using System.CommandLine;
using GeoToken.Cli.Commands;
using GeoToken.Cli.Torch;
using GeoToken.IO;
using GeoToken.Model;

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
            EmbedCommand.Create(),
            ConvertCommand.Create(),
            DatasetCommand.Create(),
            SetupCommand.Create(),
            DbCommand.Create(),
            ServeCommand.Create(),
        };
        root.WithExamples("geotoken synth --out S --train 100000 --test 2997", "geotoken predict --model M --gallery photos-gallery --image photo.jpg --encoder clip.onnx");
        CliExamples.AddToHelp(root);
        return root;
    }

    /// <summary>Exit code of a run that failed on its input or at run time (the message names what failed).</summary>
    public const int ExitFailure = 1;

    /// <summary>Exit code of a command line that does not parse or asks for an impossible combination of options.</summary>
    public const int ExitUsage = 2;

    /// <summary>Exit code of a cancelled run (as for SIGINT).</summary>
    public const int ExitCancelled = 130;

    /// <summary>
    /// Parses and runs. A usage error prints one line per problem and returns <see cref="ExitUsage"/>;
    /// any exception a verb throws prints one line naming what failed and returns <see cref="ExitFailure"/>
    /// (with <c>--verbose</c> anywhere on the command line, the full exception follows); nothing escapes
    /// as an unhandled exception.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool verbose = args.Contains("--verbose", StringComparer.Ordinal);
        string[] rest = verbose ? args.Where(a => a != "--verbose").ToArray() : args;
        // --json - writes the JSON to standard output; the human-readable report then goes to standard error.
        bool jsonToStdout = rest.Select((a, i) => a == "--json" && i + 1 < rest.Length && rest[i + 1] == JsonReport.StandardOutputName).Any(b => b);
        JsonReport.StandardOutput.Value = jsonToStdout ? output : null;
        var config = new InvocationConfiguration { Output = jsonToStdout ? error : output, Error = error, EnableDefaultExceptionHandler = false };
        string verb = rest.FirstOrDefault(a => !a.StartsWith('-')) ?? "geotoken";
        LibTorchLocation.Register(); // the packed tool has no libtorch of its own; see LibTorchLocation
        try
        {
            var parse = Build().Parse(rest);
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors) await error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                await error.WriteLineAsync($"usage: see 'geotoken {(verb == "geotoken" ? "" : verb + " ")}--help'").ConfigureAwait(false);
                return ExitUsage;
            }

            return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException e)
        {
            await error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
            return ExitUsage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return ExitCancelled;
        }
        catch (Exception e) when (Find<LibTorchNotFoundException>(e) is not null)
        {
            await error.WriteLineAsync("error: " + LibTorchLocation.MissingMessage(verb)).ConfigureAwait(false);
            if (verbose) await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return ExitFailure;
        }
        catch (Exception e)
        {
            string line = IsUserError(e) ? "error: " + e.Message : $"error: geotoken {verb} failed: {e.GetType().Name}: {e.Message}";
            await error.WriteLineAsync(OneLine(line)).ConfigureAwait(false);
            if (verbose) await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return ExitFailure;
        }
    }

    /// <summary>Errors whose message alone says what is wrong with the input (no exception type needed).</summary>
    private static bool IsUserError(Exception e) =>
        e is CsvFormatException or FormatException or ArgumentException or IOException or InvalidDataException
            or UnauthorizedAccessException or InvalidOperationException or NotSupportedException;

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found) return found;
            if (e is AggregateException { InnerExceptions.Count: 1 } a) return Find<T>(a.InnerExceptions[0]);
        }

        return null;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}

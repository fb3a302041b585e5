using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;

namespace GeoToken.Cli;

/// <summary>Example command lines of a verb, written in an <c>Examples:</c> section at the end of its <c>--help</c>.</summary>
internal static class CliExamples
{
    /// <summary>The heading of the section.</summary>
    public const string Heading = "Examples:";

    private static readonly ConditionalWeakTable<Command, IReadOnlyList<string>> Registered = [];

    /// <summary>The examples of <paramref name="command"/> (empty when it has none).</summary>
    public static IReadOnlyList<string> Of(Command command) => Registered.TryGetValue(command, out var examples) ? examples : [];

    /// <summary>Gives <paramref name="command"/> one or more example command lines (each a whole <c>geotoken …</c> line).</summary>
    public static T WithExamples<T>(this T command, params IReadOnlyList<string> examples) where T : Command
    {
        ArgumentNullException.ThrowIfNull(command);
        if (examples.Count == 0 || examples.Any(e => !e.StartsWith("geotoken ", StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Examples of {command.Name} must be whole 'geotoken …' command lines.", nameof(examples));
        }

        Registered.AddOrUpdate(command, examples);
        return command;
    }

    /// <summary>Adds the examples section to the help of <paramref name="root"/> and every command under it.</summary>
    public static void AddToHelp(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is not SynchronousCommandLineAction action) throw new InvalidOperationException("The root's --help has no synchronous action to extend.");
        help.Action = new ExamplesHelpAction(action);
    }

    /// <summary>The standard help, then the command's examples.</summary>
    private sealed class ExamplesHelpAction(SynchronousCommandLineAction help) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => help.ClearsParseErrors;

        public override int Invoke(ParseResult parseResult)
        {
            int code = help.Invoke(parseResult);
            var examples = Of(parseResult.CommandResult.Command);
            if (examples.Count > 0)
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine(Heading);
                foreach (string example in examples) output.WriteLine("  " + example);
                output.WriteLine();
            }

            return code;
        }
    }
}

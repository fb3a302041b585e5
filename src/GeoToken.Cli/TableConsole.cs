using Spectre.Console;

namespace GeoToken.Cli;

/// <summary>A console for writing tables to a command's output: colours on a terminal, plain text elsewhere (files, tests).</summary>
internal static class TableConsole
{
    public static IAnsiConsole For(TextWriter output)
    {
        bool terminal = output == Console.Out;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        console.Profile.Width = Math.Max(console.Profile.Width, 120);
        return console;
    }
}

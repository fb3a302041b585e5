using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using System.Text;

namespace GeoToken.Cli.Tests;

/// <summary>
/// The help of every verb, found by walking the command tree (a new verb or option is covered without editing this
/// file): value names on every option that takes a value, fixed choices enforced as usage errors, examples that parse.
/// </summary>
public sealed class CliHelpTests
{
    /// <summary>Every command with the words that reach it (the root has none).</summary>
    public static TheoryData<string> Verbs()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in Walk(GeoTokenCli.Build(), [])) data.Add(string.Join(' ', path));
        return data;
    }

    private static IEnumerable<(string[] Path, Command Command)> Walk(Command command, string[] path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
        {
            foreach (var found in Walk(sub, [.. path, sub.Name])) yield return found;
        }
    }

    private static Command Find(string verb) => Walk(GeoTokenCli.Build(), []).Single(c => string.Join(' ', c.Path) == verb).Command;

    private static string[] Words(string verb) => verb.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The options a verb's help lists: its own and the recursive ones of its parents (--help, --version).</summary>
    private static IEnumerable<Option> OwnOptions(Command command) => command.Options.Where(o => o is not HelpOption and not VersionOption);

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Every_option_shows_a_value_name_unless_it_is_a_flag(string verb)
    {
        var (code, output, error) = await CliRunner.RunAsync([.. Words(verb), "--help"]);
        Assert.True(code == 0, error);
        foreach (var option in OwnOptions(Find(verb)))
        {
            if (option.ValueType == typeof(bool))
            {
                Assert.Contains(Environment.NewLine + "  " + option.Name + " ", output, StringComparison.Ordinal);
                continue;
            }

            Assert.False(string.IsNullOrWhiteSpace(option.HelpName), $"geotoken {verb} {option.Name} has no value name");
            Assert.Contains($"{option.Name} <{option.HelpName}>", output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Options_of_fixed_choices_reject_other_values_with_exit_2_and_one_line_naming_them(string verb)
    {
        foreach (var option in OwnOptions(Find(verb)))
        {
            if (CliChoices.Of(option) is not { } choices) continue;
            Assert.Equal(string.Join('|', choices), option.HelpName);

            // The default and every listed choice parse (parsing only: a valid line would start the verb's work).
            if (option.HasDefaultValue && option.GetDefaultValue() is { } fallback)
            {
                Assert.True(CliChoices.Accepts(choices, Convert.ToString(fallback, CultureInfo.InvariantCulture)!), $"{verb} {option.Name}: default {fallback} is not a choice");
            }

            foreach (string choice in choices)
            {
                string value = choice.EndsWith(":N", StringComparison.Ordinal) ? choice[..^1] + "1" : choice;
                var parse = GeoTokenCli.Build().Parse([.. Words(verb), option.Name, value.ToUpperInvariant()]);
                Assert.DoesNotContain(parse.Errors, e => e.Message.StartsWith($"{option.Name} ", StringComparison.Ordinal));
            }

            string bad = option.ValueType == typeof(int)
                ? Enumerable.Range(0, 100).Select(i => i.ToString(CultureInfo.InvariantCulture)).First(v => !CliChoices.Accepts(choices, v))
                : "no-such-choice";
            var (code, _, error) = await CliRunner.RunAsync([.. Words(verb), option.Name, bad]);
            Assert.True(code == GeoTokenCli.ExitUsage, $"geotoken {verb} {option.Name} {bad} exited {code}: {error}");
            var lines = error.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.Contains($"{option.Name} {bad}", StringComparison.Ordinal)).ToList();
            var line = Assert.Single(lines);
            foreach (string choice in choices) Assert.Contains(choice, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_device_is_cpu_cuda_or_cuda_with_a_number()
    {
        foreach (string bad in new[] { "gpu", "cuda:", "cuda:x", "cuda:-1", "cpu:0" })
        {
            var (code, _, error) = await CliRunner.RunAsync("predict", "--device", bad);
            Assert.Equal(GeoTokenCli.ExitUsage, code);
            Assert.Contains($"--device {bad}: use cpu, cuda or cuda:N.", error, StringComparison.Ordinal);
        }

        foreach (string good in new[] { "cpu", "cuda", "cuda:0", "CUDA:12" })
        {
            Assert.DoesNotContain(GeoTokenCli.Build().Parse(["predict", "--device", good]).Errors, e => e.Message.StartsWith("--device", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Every_verb_help_ends_with_examples_of_that_verb_that_parse(string verb)
    {
        var (code, output, error) = await CliRunner.RunAsync([.. Words(verb), "--help"]);
        Assert.True(code == 0, error);
        string[] lines = output.ReplaceLineEndings("\n").Split('\n');
        int heading = Array.IndexOf(lines, CliExamples.Heading);
        Assert.True(heading >= 0, $"geotoken {verb} --help has no '{CliExamples.Heading}' section:\n{output}");
        var examples = lines.Skip(heading + 1).TakeWhile(l => l.StartsWith("  geotoken ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.InRange(examples.Count, 1, 3);
        foreach (string example in examples)
        {
            string[] args = ShellWords(example)[1..];
            Assert.True(string.Join(' ', args).StartsWith(verb, StringComparison.Ordinal), $"'{example}' is not an example of geotoken {verb}");
            var parse = GeoTokenCli.Build().Parse(args);
            Assert.True(parse.Errors.Count == 0, $"'{example}' does not parse: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
    }

    /// <summary>Splits a command line as a POSIX shell does for words and double-quoted strings (all the examples use).</summary>
    private static string[] ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in line)
        {
            if (c == '"') { quoted = !quoted; any = true; }
            else if (c == ' ' && !quoted)
            {
                if (any) words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else { word.Append(c); any = true; }
        }

        Assert.False(quoted, $"unbalanced quotes in '{line}'");
        if (any) words.Add(word.ToString());
        return [.. words];
    }
}

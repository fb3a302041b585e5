using System.CommandLine;
using System.Runtime.CompilerServices;

namespace GeoToken.Cli;

/// <summary>
/// Options whose value is one of a fixed set: the set is the option's help name (<c>--reranker &lt;consensus|mbr|logprob&gt;</c>),
/// and any other value is a usage error (exit code 2) of one line naming the option, the value and the choices. Choices
/// match case-insensitively, as the verbs read them; a choice ending in <c>:N</c> (<c>cuda:N</c>) stands for that prefix
/// followed by a non-negative integer.
/// </summary>
internal static class CliChoices
{
    private static readonly ConditionalWeakTable<Option, IReadOnlyList<string>> Registered = [];

    /// <summary>The accepted values of <paramref name="option"/>, or null when it takes any value of its type.</summary>
    public static IReadOnlyList<string>? Of(Option option) => Registered.TryGetValue(option, out var choices) ? choices : null;

    /// <summary>Restricts <paramref name="option"/> to <paramref name="choices"/> and names them in its help.</summary>
    public static Option<T> OneOf<T>(this Option<T> option, params IReadOnlyList<string> choices)
    {
        ArgumentNullException.ThrowIfNull(option);
        if (choices.Count == 0) throw new ArgumentException("An option of fixed choices needs at least one.", nameof(choices));
        Registered.AddOrUpdate(option, choices);
        option.HelpName = string.Join('|', choices);
        option.CompletionSources.Add(choices.Where(c => !c.EndsWith(":N", StringComparison.Ordinal)).ToArray());
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (!Accepts(choices, token.Value))
                {
                    result.AddError($"{option.Name} {token.Value}: use {Describe(choices)}.");
                }
            }
        });
        return option;
    }

    /// <summary>The <c>--device</c> choices: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public static Option<string> Device(string description) =>
        new Option<string>("--device") { Description = description, DefaultValueFactory = _ => "cpu" }.OneOf("cpu", "cuda", "cuda:N");

    /// <summary>Whether <paramref name="value"/> is one of <paramref name="choices"/>.</summary>
    public static bool Accepts(IReadOnlyList<string> choices, string value) => choices.Any(c =>
        c.EndsWith(":N", StringComparison.Ordinal)
            ? value.Length > c.Length - 1 && value.StartsWith(c[..^1], StringComparison.OrdinalIgnoreCase) && value[(c.Length - 1)..].All(char.IsAsciiDigit)
            : value.Equals(c, StringComparison.OrdinalIgnoreCase));

    private static string Describe(IReadOnlyList<string> choices) =>
        choices.Count == 1 ? choices[0] : $"{string.Join(", ", choices.Take(choices.Count - 1))} or {choices[^1]}";
}

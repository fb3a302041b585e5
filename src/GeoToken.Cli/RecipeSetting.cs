using System.CommandLine;
using GeoToken.Model.Recipes;

namespace GeoToken.Cli;

/// <summary>The <c>--recipe default|paper</c> option (<see cref="GeoTokenRecipe"/>) and whether other options were given explicitly.</summary>
internal static class RecipeSetting
{
    public static Option<string> Create(string what) => new Option<string>("--recipe")
    {
        Description = $"default (GeoToken.NET's choices) or paper (the reference implementation's: {what}); options given explicitly still win.",
        DefaultValueFactory = _ => "default",
    }.OneOf("default", "paper");

    public static GeoTokenRecipe Resolve(ParseResult parse, Option<string> option)
    {
        string value = parse.GetValue(option)!;
        try
        {
            return GeoTokenRecipe.Parse(value);
        }
        catch (ArgumentException)
        {
            throw new CliUsageException($"--recipe {value}: use default or paper.");
        }
    }

    /// <summary>Whether <paramref name="option"/> was on the command line (not just its default).</summary>
    public static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };
}

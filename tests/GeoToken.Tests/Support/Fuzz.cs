using System.Globalization;
using CsCheck;

namespace GeoToken.Tests.Support;

/// <summary>
/// The fuzzing property: a parser given any input either succeeds or throws one of its documented
/// exception types with a message naming the input; any other exception fails the property (and
/// CsCheck shrinks the input and prints a seed to replay it). A hang fails the property's time limit.
/// Also linked into the Onnx and CLI test projects.
/// </summary>
internal static class Fuzz
{
    /// <summary>
    /// <paramref name="iterations"/> scaled by the environment variable <c>GEOTOKEN_FUZZ_SCALE</c>
    /// (default 1; CI keeps the whole suite under a minute, set e.g. 50 for a long local run).
    /// </summary>
    public static long Iterations(long iterations) =>
        double.TryParse(Environment.GetEnvironmentVariable("GEOTOKEN_FUZZ_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
            ? Math.Max(1, (long)(iterations * s))
            : iterations;

    /// <summary>Runs <paramref name="parse"/>; accepts success or a documented exception whose message contains <paramref name="name"/>.</summary>
    /// <returns>The documented exception, or <see langword="null"/> when the input parsed.</returns>
    public static Exception? ParsesOrFailsDocumented(Action parse, string name, params Type[] documented)
    {
        try
        {
            parse();
            return null;
        }
        catch (Exception e) when (documented.Any(t => t.IsInstanceOfType(e)))
        {
            if (!e.Message.Contains(name, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{e.GetType().Name} does not name the input '{name}': {e.Message}", e);
            }

            return e;
        }
    }

    /// <summary>
    /// Samples <paramref name="gen"/> on one thread (the machine is shared) under a wall-clock bound
    /// (hang detection). <paramref name="property"/> returns the documented exception an input
    /// failed with, or <see langword="null"/> when it parsed (its <c>Data["fuzz-outcome"]</c>, when set, names
    /// its class in the tally instead of its type); the tally is written to the test output
    /// and, when the environment variable <c>GEOTOKEN_FUZZ_REPORT</c> names a file, appended to it.
    /// </summary>
    public static async Task SampleAsync<T>(Gen<T> gen, Func<T, Exception?> property, long iterations, Func<T, string>? print = null, int timeoutSeconds = 60)
    {
        var tally = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var run = Task.Run(() => gen.Sample(
            input =>
            {
                var failure = property(input);
                string outcome = failure is null ? "parsed" : failure.Data["fuzz-outcome"] as string ?? failure.GetType().Name;
                tally[outcome] = tally.GetValueOrDefault(outcome) + 1;
            },
            iter: Iterations(iterations),
            threads: 1,
            print: print));
        var limit = TimeSpan.FromSeconds(timeoutSeconds * Math.Max(1, Iterations(1000) / 1000.0)); // scales with GEOTOKEN_FUZZ_SCALE
        var done = await Task.WhenAny(run, Task.Delay(limit, TestContext.Current.CancellationToken));
        if (done != run) throw new TimeoutException($"The property did not finish within {limit.TotalSeconds:F0} s: a parser hangs (or the machine is overloaded).");
        await run;

        string test = TestContext.Current.Test?.TestDisplayName ?? "?";
        string line = $"{test}: {tally.Values.Sum()} inputs: {string.Join(", ", tally.Select(kv => $"{kv.Value} {kv.Key}"))}";
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("GEOTOKEN_FUZZ_REPORT") is { Length: > 0 } report)
        {
            lock (typeof(Fuzz))
            {
                File.AppendAllLines(report, [line]);
            }
        }
    }
}

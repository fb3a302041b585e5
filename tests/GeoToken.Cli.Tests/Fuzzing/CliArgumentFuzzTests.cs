using System.Text.RegularExpressions;
using CsCheck;
using GeoToken.Tests.Support;

namespace GeoToken.Cli.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing of <see cref="GeoTokenCli.RunAsync"/> with random argument vectors over
/// the quick verbs (s2, metrics, compare: nothing that starts long work) and garbage, and with
/// damaged CSV inputs: the exit code is 0, 1 or 2, nothing escapes as an exception, a failure is
/// one line (without --verbose) and never a programming error (null reference, index out of range…),
/// and input files are never modified.
/// </summary>
public sealed partial class CliArgumentFuzzTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"(NullReference|IndexOutOfRange|ArgumentOutOfRange|InvalidCast|KeyNotFound|DivideByZero|NotImplemented|Overflow)Exception")]
    private static partial Regex ProgrammingError();

    private string File(string name) => Path.Combine(_dir, name);

    private Dictionary<string, byte[]> WriteInputs()
    {
        var inputs = new Dictionary<string, byte[]>
        {
            ["points.csv"] = "lat,lon\n43.46,11.88\n-33.9,151.2\n"u8.ToArray(),
            ["metrics.csv"] = "LAT,LON,LAT_pred,LON_pred\n1,2,1.1,2.1\n-10,20,-9,19\n45,7,45,7\n"u8.ToArray(),
            ["compare.csv"] = "LAT,LON,LAT_pred_greedy,LON_pred_greedy,LAT_pred_beam,LON_pred_beam\n1,2,1.1,2.1,1,2\n-10,20,-9,19,-10,20.5\n45,7,45,7,46,8\n"u8.ToArray(),
            ["bad.csv"] = "LAT,LON\n1,\"2\n"u8.ToArray(),
            ["empty.csv"] = [],
        };
        foreach (var (name, bytes) in inputs) System.IO.File.WriteAllBytes(File(name), bytes);
        Directory.CreateDirectory(File("folder"));
        return inputs;
    }

    private Gen<string[]> Arguments()
    {
        var verb = Gen.OneOf<string>("s2", "metrics", "compare", "S2", "help", "--help", "-h", "--version", "frobnicate", "", "-", "--", "s2 metrics");
        var option = Gen.OneOf<string>(
            "--input", "--output", "--level", "--lat", "--lon", "--predictions", "--true-lat", "--true-lon", "--pred-lat", "--pred-lon",
            "--json", "--baseline", "--strategies", "--verbose", "--help", "-h", "--", "--bogus", "--lat=1", "--level:3");
        var value = Gen.OneOf(
            Gen.OneOf<string>("0", "-1", "91", "-180.5", "1e308", "NaN", "Infinity", "abc", "30", "31", "2147483648", "greedy", "beam", "greedy,beam", ",", "LAT", "lon", ""),
            Gen.OneOf<string>("points.csv", "metrics.csv", "compare.csv", "bad.csv", "empty.csv", "missing.csv", "folder", "out.csv", "out.json", "folder/sub/out.csv").Select(File),
            Gen.String[0, 12]);
        var garbage = Gen.Select(verb, Gen.OneOf(option, value, option, option).Array[0, 8], (v, rest) => (string[])[.. v.Split(' ', StringSplitOptions.RemoveEmptyEntries), .. rest]);

        // Well-formed invocations (each option once, with a value) whose values may still be wrong.
        var pair = Gen.Select(option, value, (o, v) => (o, v));
        var wellFormed = Gen.Select(Gen.OneOf<string>("s2", "metrics", "compare"), pair.Array[1, 5], (v, pairs) =>
            (string[])[v, .. pairs.DistinctBy(p => p.o).Where(p => p.o.StartsWith("--", StringComparison.Ordinal) && p.o.Length > 2 && !p.o.Contains('=') && !p.o.Contains(':')).SelectMany(p => p.o is "--verbose" or "--help" ? [p.o] : new[] { p.o, p.v })]);
        return Gen.OneOf(garbage, wellFormed);
    }

    [Fact]
    public async Task Random_argument_vectors_exit_0_1_or_2_with_one_clear_line_and_leave_inputs_alone()
    {
        var inputs = WriteInputs();
        await Fuzz.SampleAsync(Arguments(), args =>
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int code = GeoTokenCli.RunAsync(args, output, error, TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            string what = $"geotoken {string.Join(' ', args.Select(a => $"'{a}'"))} exited {code}: {error}";
            Assert.True(code is 0 or 1 or 2, what);
            Assert.False(ProgrammingError().IsMatch(error.ToString()), what);
            if (code == 1 && !args.Contains("--verbose")) Assert.True(error.ToString().TrimEnd().Split('\n').Length == 1 && error.ToString().StartsWith("error: ", StringComparison.Ordinal), what);
            foreach (var (name, bytes) in inputs) Assert.True(System.IO.File.ReadAllBytes(File(name)).AsSpan().SequenceEqual(bytes), $"{what}\n{name} was modified");
            return code == 0 ? null : new CliExit(code);
        }, 600, a => string.Join(' ', a));
    }

    [Fact]
    public Task Damaged_prediction_files_give_metrics_or_one_error_line_naming_the_file()
    {
        byte[][] seeds = ["LAT,LON,LAT_pred,LON_pred\n1,2,1.1,2.1\n-10,20,-9,19\n45,7,45,7\n"u8.ToArray(), "LAT,LON,LAT_pred_greedy,LON_pred_greedy,LAT_pred_beam,LON_pred_beam\n1,2,1.1,2.1,1,2\n-10,20,-9,19,-10,20.5\n"u8.ToArray()];
        return Fuzz.SampleAsync(Gen.Select(ByteMutations.Of(seeds, maxRandomLength: 200), Gen.Bool), x =>
        {
            string path = File("fuzz.csv");
            System.IO.File.WriteAllBytes(path, x.Item1);
            var error = new StringWriter();
            string[] args = x.Item2 ? ["metrics", "--predictions", path] : ["compare", "--predictions", path, "--baseline", "greedy"];
            int code = GeoTokenCli.RunAsync(args, new StringWriter(), error, TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            Assert.True(code is 0 or 1 or 2, $"{args[0]} exited {code}: {error}"); // 2: the file's content makes the request unusable (compare: no other strategy)
            if (code != 0)
            {
                Assert.Contains("fuzz.csv", error.ToString());
                Assert.False(ProgrammingError().IsMatch(error.ToString()), error.ToString());
            }

            return code == 0 ? null : new CliExit(code);
        }, 500, x => ByteMutations.Describe(x.Item1));
    }

    /// <summary>Stands for a non-zero exit in the fuzz tally.</summary>
    private sealed class CliExit : Exception
    {
        public CliExit(int code)
            : base($"exit {code}") => Data["fuzz-outcome"] = $"exit {code}";
    }
}

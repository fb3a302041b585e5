using System.Diagnostics;

namespace GeoToken.Cli.Tests.Crash;

/// <summary>Runs the built CLI (<c>dotnet GeoToken.Cli.dll …</c>) as a child process, optionally SIGKILLing it after a delay.</summary>
internal static class CliProcess
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "GeoToken.Cli.dll");

    /// <summary>The result of one run: exit code (or -1 when killed), whether it was killed, and how long it ran.</summary>
    public sealed record Outcome(int ExitCode, bool Killed, TimeSpan Elapsed, string Error);

    /// <summary>Runs <c>geotoken <paramref name="args"/></c>; kills it (SIGKILL, no chance to clean up) after <paramref name="killAfter"/> if it still runs.</summary>
    public static async Task<Outcome> RunAsync(string workDir, IEnumerable<string> args, TimeSpan? killAfter = null)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet");
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var exited = p.WaitForExitAsync(TestContext.Current.CancellationToken);
        bool killed = false;
        if (killAfter is { } delay && await Task.WhenAny(exited, Task.Delay(delay, TestContext.Current.CancellationToken)) != exited)
        {
            try
            {
                p.Kill(); // SIGKILL on Unix
                killed = true;
            }
            catch (InvalidOperationException)
            {
                // It exited in between.
            }
        }

        await exited;
        await stdout;
        string error = await stderr;
        return new Outcome(killed ? -1 : p.ExitCode, killed, sw.Elapsed, error);
    }
}

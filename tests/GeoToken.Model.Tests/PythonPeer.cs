using System.Diagnostics;

namespace GeoToken.Model.Tests;

/// <summary>Runs the project's PyTorch peers in benchmarks/peers with /usr/bin/python3 (PyTorch 1.13); a missing peer fails the test.</summary>
internal static class PythonPeer
{
    /// <summary>Runs <c>benchmarks/peers/{script}</c> with <paramref name="arguments"/>; returns its standard output, fails the test on a non-zero exit.</summary>
    public static string Run(string script, params string[] arguments)
    {
        string path = Path.Combine(RepositoryRoot(), "benchmarks", "peers", script);
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(path);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0,
            $"{python} {path} {string.Join(' ', arguments)} failed ({process.ExitCode}); PyTorch 1.13 is needed (eng/setup.sh --peers installs python3-torch).\n{stdout}\n{stderr.Result}");
        return stdout;
    }

    /// <summary>The folder holding GeoToken.sln above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GeoToken.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"No GeoToken.sln above {AppContext.BaseDirectory}.");
    }
}

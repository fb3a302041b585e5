using System.Diagnostics;

namespace GeoToken.Onnx.Tests.Support;

/// <summary>
/// Runs the peers the tests compare with (Debian's Python 3 with Pillow and NumPy; exiftool). They
/// are installed by <c>eng/setup.sh --test-deps</c>; a missing peer fails the test, it never skips it.
/// </summary>
internal static class Peer
{
    public const string Python = "/usr/bin/python3";

    public static string RunPython(string script, params string[] args) =>
        Run(Python, ["-c", script, .. args], "Debian's python3 with python3-pil and python3-numpy (eng/setup.sh --test-deps)");

    public static string RunExiftool(params string[] args) =>
        Run("exiftool", args, "exiftool (Debian package libimage-exiftool-perl; eng/setup.sh --test-deps)");

    public static string Run(string exe, IEnumerable<string> args, string what)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {exe}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"This test needs {what}, which is missing: {e.Message}", e);
        }

        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{exe} failed with exit code {p.ExitCode} (needs {what}):\n{stderr.Result}");
            }

            return stdout;
        }
    }
}

using System.Diagnostics;

namespace GeoToken.Tests.Support;

/// <summary>
/// Runs NumPy for real (Debian's <c>/usr/bin/python3</c> with <c>python3-numpy</c>) as the reference
/// for the .npy format. Tests using it fail, not skip, when Python or NumPy is missing
/// (<c>eng/setup.sh --peers</c> installs them).
/// </summary>
internal static class NumPyPeer
{
    private const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> (after <c>import numpy as np</c>) in <paramref name="workingDirectory"/>; returns stdout, throws with stderr on failure.</summary>
    public static string Run(string script, string workingDirectory)
    {
        string file = System.IO.Path.Combine(workingDirectory, "script-" + Guid.NewGuid().ToString("N")[..8] + ".py");
        File.WriteAllText(file, "import sys\nimport numpy as np\n" + script);
        var psi = new ProcessStartInfo(File.Exists(Python) ? Python : "python3", [file])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("python3 with NumPy is needed for the .npy cross-checks; run eng/setup.sh --peers.", e);
        }

        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"python3 failed (exit {p.ExitCode}; is python3-numpy installed? run eng/setup.sh --peers):\n{stderr}");
            }

            return stdout.Result;
        }
    }
}

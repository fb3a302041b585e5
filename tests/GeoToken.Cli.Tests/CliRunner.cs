namespace GeoToken.Cli.Tests;

/// <summary>Runs the real command tree in-process and captures its output.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await GeoTokenCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A file or folder of tests/GeoToken.Onnx.Tests/TestData (photos, the SqueezeNet model), found above the test binaries.</summary>
    public static string OnnxTestData(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine([dir.FullName, "tests", "GeoToken.Onnx.Tests", "TestData", .. parts]);
            if (Path.Exists(candidate)) return candidate;
        }

        throw new DirectoryNotFoundException($"tests/GeoToken.Onnx.Tests/TestData/{string.Join('/', parts)} not found above {AppContext.BaseDirectory}");
    }

    public static string TempDir()
    {
        return Directory.CreateTempSubdirectory("geotoken-cli-").FullName;
    }
}

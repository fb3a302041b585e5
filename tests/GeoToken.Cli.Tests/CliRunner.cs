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

    public static string TempDir()
    {
        return Directory.CreateTempSubdirectory("geotoken-cli-").FullName;
    }
}

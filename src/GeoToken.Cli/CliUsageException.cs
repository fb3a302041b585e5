namespace GeoToken.Cli;

/// <summary>The command line is inconsistent (e.g. neither <c>--input</c> nor <c>--lat/--lon</c>).</summary>
internal sealed class CliUsageException(string message) : Exception(message);

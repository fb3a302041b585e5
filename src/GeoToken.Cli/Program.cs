using GeoToken.Cli;

return await GeoTokenCli.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);

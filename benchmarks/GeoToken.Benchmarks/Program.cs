using BenchmarkDotNet.Running;
using GeoToken.Benchmarks;

// Two modes:
//   dotnet run -c Release -- [BenchmarkDotNet arguments, e.g. --filter *S2*]
//   dotnet run -c Release -- peer <name> <args...>   (the .NET half of a benchmarks/peers comparison)
if (args.Length > 0 && args[0] == "peer")
{
    return PeerHarness.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(PeerHarness).Assembly).Run(args);
return 0;

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>
/// The cluster index on a 100 000 × 512 clustered gallery: building it (in memory; 316 top-level
/// clusters, 2 levels) and searching 8192 queries (K = 15) with its default beam, per query.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class ClusterIndexBenchmarks
{
    private const int Rows = 100_000, D = 512, Queries = 8192;
    private readonly ClusterIndexOptions _options = new() { Clusters = 316, Levels = 2 };
    private FeatureMatrix _gallery = null!;
    private FeatureMatrix _queries = null!;
    private ClusterIndex _index = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gallery = SyntheticGallery.Matrix(Rows, D, 1, half: false);
        _queries = SyntheticGallery.Matrix(Queries, D, 2, half: false);
        _index = ClusterIndex.Build(_gallery, _options);
    }

    [GlobalCleanup]
    public void Cleanup() => _index.Dispose();

    [Benchmark]
    public int Build_100k() => ClusterIndex.Build(_gallery, _options).Levels;

    [Benchmark(OperationsPerInvoke = Queries)]
    public long Search_k15_default_beam() => _index.Search(_queries, new SearchOptions { K = 15 }).Indices[0];
}

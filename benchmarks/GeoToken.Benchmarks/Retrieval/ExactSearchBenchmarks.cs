using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>Exact search of 2048 queries (K = 15) in a 100 000 × 512 clustered gallery, per query (OperationsPerInvoke = queries).</summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class ExactSearchBenchmarks
{
    private const int Rows = 100_000, D = 512, Queries = 2048;
    private FeatureMatrix _queries = null!;
    private ExactIndex _index = null!;

    [Params(FeatureElementType.Float32, FeatureElementType.Float16)]
    public FeatureElementType Storage { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var gallery = SyntheticGallery.Matrix(Rows, D, 1, Storage == FeatureElementType.Float16);
        _queries = SyntheticGallery.Matrix(Queries, D, 2, half: false);
        _index = ExactIndex.Create(gallery);
    }

    [GlobalCleanup]
    public void Cleanup() => _index.Dispose();

    [Benchmark(OperationsPerInvoke = Queries)]
    public long Search_k15() => _index.Search(_queries, new SearchOptions { K = 15 }).Indices[0];
}

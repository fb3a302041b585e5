using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using GeoToken.Retrieval;

namespace GeoToken.Benchmarks.Retrieval;

/// <summary>
/// The pieces of one exact-search pass over 16 384 gallery rows for a tile of 192 queries (d = 512):
/// the GEMM micro-kernel alone (2·192·16384·512 = 3.2 GFLOP per invoke; GFLOPS = 3.22 / mean
/// seconds), packing (transpose, float16 conversion) and top-k filtering.
/// </summary>
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 2, iterationCount: 8)]
public unsafe class KernelBenchmarks
{
    private const int D = 512, Queries = 192, Rows = 16384, Block = 256;
    private float[] _queries = [];
    private float[] _gallery = [];
    private Half[] _half = [];
    private float[] _packed = [];
    private float[] _scores = [];
    private nint[] _rows = [];
    private TopKHeaps _heaps = new(Queries, 15);
    private float[] _inverseNorms = [];

    [GlobalSetup]
    public void Setup()
    {
        _queries = GC.AllocateArray<float>(Queries * D, pinned: true);
        SyntheticGallery.Generate(Queries, D, 7).CopyTo(_queries, 0);
        _gallery = SyntheticGallery.Generate(Rows, D, 8);
        _half = _gallery.Select(v => (Half)v).ToArray();
        _packed = GC.AllocateArray<float>(Rows * D, pinned: true);
        for (int b = 0; b < Rows; b += Block) InnerProductKernel.Pack(_gallery.AsSpan(b * D, Block * D), Block, D, _packed.AsSpan(b * D, Block * D));
        _scores = new float[Queries * Rows];
        _rows = new nint[Queries];
        fixed (float* q = _queries)
        {
            for (int i = 0; i < Queries; i++) _rows[i] = (nint)(q + i * D);
        }

        _inverseNorms = Enumerable.Repeat(1f, Rows).ToArray();
        for (int b = 0; b < Rows; b += Block) InnerProductKernel.Multiply(_rows, Queries, _packed.AsSpan(b * D, Block * D), Block, D, _scores.AsSpan(b), Rows);
    }

    [Benchmark(Description = "Multiply (GEMM micro-kernel, 3.2 GFLOP)")]
    public float Multiply()
    {
        for (int b = 0; b < Rows; b += Block) InnerProductKernel.Multiply(_rows, Queries, _packed.AsSpan(b * D, Block * D), Block, D, _scores.AsSpan(b), Rows);
        return _scores[0];
    }

    [Benchmark(Description = "Pack float32 (16384 rows)")]
    public float PackFloat32()
    {
        for (int b = 0; b < Rows; b += Block) InnerProductKernel.Pack(_gallery.AsSpan(b * D, Block * D), Block, D, _packed.AsSpan(b * D, Block * D));
        return _packed[0];
    }

    [Benchmark(Description = "Pack float16 (16384 rows)")]
    public float PackFloat16()
    {
        for (int b = 0; b < Rows; b += Block) InnerProductKernel.Pack(_half.AsSpan(b * D, Block * D), Block, D, _packed.AsSpan(b * D, Block * D));
        return _packed[0];
    }

    [Benchmark(Description = "Top-15 filtering (192 x 16384 scores)")]
    public float Offer()
    {
        _heaps.Reset(Queries);
        for (int i = 0; i < Queries; i++) _heaps.Offer(i, _scores.AsSpan(i * Rows, Rows), _inverseNorms, 0, default);
        return _heaps.Threshold(0);
    }
}

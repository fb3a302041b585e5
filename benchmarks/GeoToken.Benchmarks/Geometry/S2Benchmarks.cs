using BenchmarkDotNet.Attributes;
using GeoToken.Geometry;
using GeoToken.Tokens;

namespace GeoToken.Benchmarks.Geometry;

/// <summary>S2 conversions and the GeoToken tokenizer, per point (OperationsPerInvoke = points).</summary>
[MemoryDiagnoser]
public class S2Benchmarks
{
    private const int N = 100_000;
    private readonly LatLng[] _points = new LatLng[N];
    private readonly S2CellId[] _cells = new S2CellId[N];
    private readonly int[] _tokens = new int[N * 11];
    private readonly GeoTokenizer _tokenizer = new();

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        for (int k = 0; k < N; k++)
        {
            _points[k] = new LatLng(Math.Asin(2 * rng.NextDouble() - 1) * (180 / Math.PI), rng.NextDouble() * 360 - 180);
            _cells[k] = S2CellId.FromLatLng(_points[k]);
        }

        for (int k = 0; k < N; k++) _tokenizer.Encode(_cells[k], _tokens.AsSpan(k * 11, 11));
    }

    [Benchmark(OperationsPerInvoke = N)]
    public ulong LatLng_to_cell()
    {
        ulong acc = 0;
        foreach (var p in _points) acc ^= S2CellId.FromLatLng(p).Id;
        return acc;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double Cell_to_latlng()
    {
        double acc = 0;
        foreach (var c in _cells) acc += c.ToLatLng().Latitude;
        return acc;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public int Tokenize_cell()
    {
        Span<int> t = stackalloc int[11];
        int acc = 0;
        foreach (var c in _cells)
        {
            _tokenizer.Encode(c, t);
            acc += t[10];
        }

        return acc;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public ulong Detokenize_to_cell()
    {
        ulong acc = 0;
        for (int k = 0; k < N; k++) acc ^= _tokenizer.Decode(_tokens.AsSpan(k * 11, 11)).Id;
        return acc;
    }

    [Benchmark(OperationsPerInvoke = N)]
    public double Detokenize_to_centre()
    {
        double acc = 0;
        for (int k = 0; k < N; k++) acc += _tokenizer.DecodeCenter(_tokens.AsSpan(k * 11, 11)).Longitude;
        return acc;
    }
}

using BenchmarkDotNet.Attributes;
using GeoToken.SynthGeo;

namespace GeoToken.Benchmarks.SynthGeo.Simulation;

/// <summary>
/// The single-threaded cost of each stage of generating one SynthGeo row (the default model, D = 512, one view), per
/// row (OperationsPerInvoke = the rows): sampling the row, its latent parts, the image view, and the view's MLP mixer
/// (run in blocks of <see cref="Block"/> rows, as the generator does).
/// </summary>
[MemoryDiagnoser]
public class RowGeneratorBenchmarks
{
    private const int Rows = 2064; // 8 blocks of 258
    private const int Block = 258;
    private SynthGeoWorld _world = null!;
    private RowGenerator _generator = null!;
    private RowSpec[] _specs = [];
    private float[] _s = [], _g = [], _d = [], _z = [], _hidden = [], _padded = [], _output = [];
    private int _latent;

    [GlobalSetup]
    public void Setup()
    {
        _world = new SynthGeoWorld(SynthGeoModel.Default, 1, 512, 1);
        _generator = new RowGenerator(_world);
        _latent = _world.Latent;
        _specs = new RowSpec[Rows];
        for (int i = 0; i < Rows; i++) _specs[i] = _generator.Gallery(i);
        _s = new float[Rows * _latent];
        _g = new float[Rows * _latent];
        _d = new float[Rows * _latent];
        for (int i = 0; i < Rows; i++) _generator.Parts(_specs[i], i, 1, Row(_s, i), Row(_g, i), Row(_d, i));
        _z = new float[Rows * _latent];
        for (int i = 0; i < Rows; i++) View(i);
        _hidden = new float[Block * _world.Model.HiddenDimension];
        _padded = new float[Block * _world.Mixers[0].PaddedOutput];
        _output = new float[Block * 512];
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public double Sample_row()
    {
        double acc = 0;
        for (int i = 0; i < Rows; i++) acc += _generator.Gallery(i).Locatability;
        return acc;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public void Latent_parts()
    {
        for (int i = 0; i < Rows; i++) _generator.Parts(_specs[i], i, 1, Row(_s, i), Row(_g, i), Row(_d, i));
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public void Image_view()
    {
        for (int i = 0; i < Rows; i++) View(i);
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public void Mlp_mixer()
    {
        for (int i = 0; i < Rows; i += Block) _world.Mixers[0].Mix(_z.AsSpan(i * _latent, Block * _latent), Block, _hidden, _padded, _output);
    }

    private void View(int i)
    {
        var noise = Rng.For(1, 7, 1, (ulong)i);
        _generator.View(_world.Model.ImageView, _specs[i].Locatability, Row(_s, i), Row(_g, i), Row(_d, i), ref noise, Row(_z, i));
    }

    private Span<float> Row(float[] buffer, int i) => buffer.AsSpan(i * _latent, _latent);
}

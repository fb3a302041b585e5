using BenchmarkDotNet.Attributes;
using GeoToken.Imaging;
using GeoToken.Preprocessing;

namespace GeoToken.Benchmarks.Onnx.Imaging;

/// <summary>JPEG decoding and preprocessing on one thread, per image (OperationsPerInvoke = the photos).</summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private const int Photos = 9; // tests/GeoToken.Onnx.Tests/TestData/photos
    private string[] _photos = [];
    private string _big = "";
    private readonly ImagePreprocessor _caffe = new(ImagePreprocessing.CaffeSqueezeNet);
    private readonly ImagePreprocessor _clip = new(ImagePreprocessing.Clip);
    private float[] _sink = [];

    [GlobalSetup]
    public void Setup()
    {
        _photos = OnnxTestData.Photos;
        if (_photos.Length != Photos) throw new InvalidOperationException($"{OnnxTestData.Folder}/photos holds {_photos.Length} photos; the benchmark divides by {Photos}.");
        _big = OnnxTestData.CameraSizedJpeg(_photos[0]);
        _sink = new float[_caffe.Settings.ValuesPerImage];
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_big);

    [Benchmark(OperationsPerInvoke = Photos)]
    public int Decode_640x480()
    {
        int pixels = 0;
        foreach (var p in _photos) pixels += ImageDecoder.Decode(p).Width;
        return pixels;
    }

    [Benchmark(OperationsPerInvoke = Photos)]
    public void Decode_and_preprocess_SqueezeNet_227_640x480()
    {
        foreach (var p in _photos) _caffe.Process(ImageDecoder.Decode(p), _sink);
    }

    [Benchmark(OperationsPerInvoke = Photos)]
    public void Decode_and_preprocess_Clip_224_bicubic_640x480()
    {
        foreach (var p in _photos) _clip.Process(ImageDecoder.Decode(p));
    }

    [Benchmark]
    public void Decode_and_preprocess_Clip_224_4000x3000() => _clip.Process(ImageDecoder.Decode(_big));

    /// <summary>The same with JPEG DCT scaling down to a shorter side of 448 while decoding.</summary>
    [Benchmark]
    public void Decode_and_preprocess_Clip_224_4000x3000_dct_scaled() => _clip.Process(ImageDecoder.Decode(_big, new ImageDecodeOptions { MinimumShorterSide = 448 }));
}

using BenchmarkDotNet.Attributes;
using GeoToken.Embeddings;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Preprocessing;

namespace GeoToken.Benchmarks.Onnx.Encoding;

/// <summary>
/// The SqueezeNet encoder over 16 images (the 9 photos repeated), per image (OperationsPerInvoke = 16): from decoded
/// images (preprocess + inference) and from files (decode + preprocess + inference), by batch size and ONNX Runtime threading.
/// </summary>
[MemoryDiagnoser]
public class EncoderBenchmarks
{
    private const int Images = 16;
    private static readonly OnnxImageEncoderOptions SqueezeNet = new() { Preprocessing = ImagePreprocessing.CaffeSqueezeNet, OutputName = "pool10_flattened" };
    private List<RgbImage> _decoded = [];
    private List<string> _paths = [];
    private OnnxImageEncoder? _encoder;

    /// <summary>Images per inference call.</summary>
    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>ONNX Runtime threading: <c>default</c> (GeoToken's: ORT's thread count, no spin-wait), <c>intra-op-1</c> (one thread) or <c>spin-wait</c> (ORT's own default).</summary>
    [Params("default", "intra-op-1", "spin-wait")]
    public string Threading { get; set; } = "default";

    [GlobalSetup]
    public void Setup()
    {
        string[] photos = OnnxTestData.Photos;
        _paths = [.. Enumerable.Range(0, Images).Select(i => photos[i % photos.Length])];
        var decoded = photos.Select(p => ImageDecoder.Decode(p)).ToList();
        _decoded = [.. Enumerable.Range(0, Images).Select(i => decoded[i % decoded.Count])];
        _encoder = new OnnxImageEncoder(OnnxTestData.Model, Threading switch
        {
            "default" => SqueezeNet with { BatchSize = Batch },
            "intra-op-1" => SqueezeNet with { BatchSize = Batch, IntraOpThreads = 1 },
            "spin-wait" => SqueezeNet with { BatchSize = Batch, SpinWaitThreads = true },
            _ => throw new InvalidOperationException($"Unknown threading '{Threading}'."),
        });
    }

    [GlobalCleanup]
    public void Cleanup() => _encoder?.Dispose();

    [Benchmark(OperationsPerInvoke = Images)]
    public Task<ImageEmbeddings> Encode_decoded_images() => _encoder!.EncodeAsync(_decoded);

    [Benchmark(OperationsPerInvoke = Images)]
    public Task<ImageEmbeddings> Encode_files() => _encoder!.EncodeAsync(_paths);
}

// Throughput and memory measurements of GeoToken.Onnx (run in Release):
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Onnx              throughput
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Onnx -- leak 600  RSS while encoding 600 images
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Onnx -- bomb W H old|new|encoder
//        peak RSS decoding a solid W×H JPEG bomb: old = the former limits (178,956,970-pixel cap, full
//        decode), new = the defaults, encoder = the SqueezeNet encoder's decoding (its shorter side 227)
// Numbers are wall-clock images per second, median of several timed rounds after a warm-up round.
using System.Diagnostics;
using System.Globalization;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Preprocessing;
using SkiaSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string data = Path.Combine(AppContext.BaseDirectory, "TestData");
string model = Path.Combine(data, "models", "squeezenet_snacks.onnx");
string[] photos = Directory.GetFiles(Path.Combine(data, "photos"), "*.jpg").Order(StringComparer.Ordinal).ToArray();
var squeezeNet = new OnnxImageEncoderOptions { Preprocessing = ImagePreprocessing.CaffeSqueezeNet, OutputName = "pool10_flattened" };

if (args.Length > 0 && args[0] == "leak")
{
    int total = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 600;
    Leak(total);
    return;
}

if (args.Length == 4 && args[0] == "bomb")
{
    Bomb(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), args[3]);
    return;
}

Console.WriteLine($"{Environment.ProcessorCount} logical processors, {RuntimeInformationText()}");
Console.WriteLine($"photos: {photos.Length} real 640×480 JPEGs; model: SqueezeNet 1.0 (227×227), output pool10_flattened (512-d)\n");

// 1. Decode + preprocess.
string big = Path.Combine(Path.GetTempPath(), $"geotoken-bench-{Environment.ProcessId}-4000x3000.jpg");
File.WriteAllBytes(big, MakeCameraSizedJpeg(photos[0]));
var caffe = new ImagePreprocessor(ImagePreprocessing.CaffeSqueezeNet);
var clip = new ImagePreprocessor(ImagePreprocessing.Clip);
float[] sink = new float[caffe.Settings.ValuesPerImage];
Report("decode only, 640×480, 1 thread", photos.Length, () => { foreach (var p in photos) ImageDecoder.Decode(p); });
Report("decode + preprocess (SqueezeNet 227), 640×480, 1 thread", photos.Length, () => { foreach (var p in photos) caffe.Process(ImageDecoder.Decode(p), sink); });
Report("decode + preprocess (CLIP 224 bicubic), 640×480, 1 thread", photos.Length, () => { foreach (var p in photos) clip.Process(ImageDecoder.Decode(p)); });
Report("decode + preprocess (CLIP 224), 640×480, 2 threads", photos.Length * 4, () => Parallel.For(0, photos.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => clip.Process(ImageDecoder.Decode(photos[i % photos.Length]))));
Report("decode + preprocess (CLIP 224), 4000×3000, 1 thread", 2, () => { for (int i = 0; i < 2; i++) clip.Process(ImageDecoder.Decode(big)); }, rounds: 3);
var fast = new ImageDecodeOptions { MinimumShorterSide = 448 };
Report("  same with MinimumShorterSide = 448 (JPEG DCT scaling)", 2, () => { for (int i = 0; i < 2; i++) clip.Process(ImageDecoder.Decode(big, fast)); }, rounds: 3);
File.Delete(big);

// 2. Encode with the real network.
var decoded = photos.Select(p => ImageDecoder.Decode(p)).ToList();
var sixteen = Enumerable.Range(0, 16).Select(i => decoded[i % decoded.Count]).ToList();
var sixteenPaths = Enumerable.Range(0, 16).Select(i => photos[i % photos.Length]).ToList();
foreach (int batch in new[] { 1, 8 })
{
    using var encoder = new OnnxImageEncoder(model, squeezeNet with { BatchSize = batch });
    Report($"encode decoded images (preprocess + inference), batch {batch}", sixteen.Count, () => encoder.EncodeAsync(sixteen).GetAwaiter().GetResult());
    Report($"encode files (decode + preprocess + inference), batch {batch}", sixteenPaths.Count, () => encoder.EncodeAsync(sixteenPaths).GetAwaiter().GetResult());
}

using (var oneThread = new OnnxImageEncoder(model, squeezeNet with { BatchSize = 8, IntraOpThreads = 1 }))
{
    Report("encode files, batch 8, IntraOpThreads = 1", sixteenPaths.Count, () => oneThread.EncodeAsync(sixteenPaths).GetAwaiter().GetResult());
}

using (var spinning = new OnnxImageEncoder(model, squeezeNet with { BatchSize = 8, SpinWaitThreads = true }))
{
    Report("encode files, batch 8, ORT threads spin-wait (ORT's default)", sixteenPaths.Count, () => spinning.EncodeAsync(sixteenPaths).GetAwaiter().GetResult());
}

void Leak(int total)
{
    using var encoder = new OnnxImageEncoder(model, squeezeNet);
    var paths = Enumerable.Range(0, 50).Select(i => photos[i % photos.Length]).ToList();
    Console.WriteLine("images  RSS MB  managed MB");
    var sw = Stopwatch.StartNew();
    for (int done = 0; done < total; done += paths.Count)
    {
        encoder.EncodeAsync(paths).GetAwaiter().GetResult();
        using var stream = File.OpenRead(photos[0]);
        encoder.EncodeAsync(stream, photos[0]).GetAwaiter().GetResult();
        if ((done + paths.Count) % 100 == 0 || done + paths.Count >= total)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Console.WriteLine($"{done + paths.Count,6}  {RssMb(),6:F0}  {GC.GetTotalMemory(true) / 1048576.0,10:F1}");
        }
    }

    Console.WriteLine($"{total / sw.Elapsed.TotalSeconds:F1} images/s overall");
}

static void Bomb(int width, int height, string mode)
{
    string path = Path.Combine(Path.GetTempPath(), $"geotoken-bomb-{Environment.ProcessId}.jpg");
    File.WriteAllBytes(path, GeoToken.Onnx.Tests.Support.SyntheticBombs.SolidGreyJpeg(width, height));
    var options = mode switch
    {
        "old" => new ImageDecodeOptions { MaxPixels = 178_956_970, FullDecodeMaxPixels = long.MaxValue },
        "encoder" => new ImageDecodeOptions { LargeImageShorterSide = ImagePreprocessing.CaffeSqueezeNet.ResizeShorterSide },
        _ => ImageDecodeOptions.Default,
    };
    double before = PeakRssMb();
    var sw = Stopwatch.StartNew();
    string outcome;
    try
    {
        var img = ImageDecoder.Decode(path, options);
        outcome = $"decoded at {img.Width}×{img.Height}";
    }
    catch (ImageDecodeException e)
    {
        outcome = "refused: " + e.Message;
    }

    Console.WriteLine($"{width}×{height} JPEG bomb ({new FileInfo(path).Length / 1024} KB), {mode}: {outcome}; {sw.Elapsed.TotalSeconds:F2} s; peak RSS {before:F0} MB before, {PeakRssMb():F0} MB after");
    File.Delete(path);
}

static double PeakRssMb()
{
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) return double.Parse(line[6..^2].Trim(), CultureInfo.InvariantCulture) / 1024;
    }

    return double.NaN;
}

static double RssMb()
{
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return double.Parse(line[6..^2].Trim(), CultureInfo.InvariantCulture) / 1024;
    }

    return Process.GetCurrentProcess().WorkingSet64 / 1048576.0;
}

static void Report(string what, int images, Action run, int rounds = 7)
{
    run(); // warm-up
    var times = new List<double>();
    for (int r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        run();
        times.Add(sw.Elapsed.TotalSeconds);
    }

    times.Sort();
    double median = times[times.Count / 2];
    Console.WriteLine($"{what,-62} {images / median,8:F1} images/s  ({1000 * median / images:F1} ms/image; median of {rounds})");
}

static string RuntimeInformationText() =>
    $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

// A 12-megapixel camera-sized JPEG (the first photo scaled up), to show full-resolution decode cost.
static byte[] MakeCameraSizedJpeg(string photo)
{
    using var src = SKBitmap.Decode(photo);
    using var big = src.Resize(new SKImageInfo(4000, 3000), SKFilterQuality.Medium);
    using var data = big.Encode(SKEncodedImageFormat.Jpeg, 90);
    return data.ToArray();
}

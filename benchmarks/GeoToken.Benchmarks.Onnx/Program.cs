// Measurements of GeoToken.Onnx (run in Release):
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Onnx -- [BenchmarkDotNet arguments, e.g. --filter *Decode* --job short]
//        decode, preprocess and encode throughput (Imaging/DecodeBenchmarks, Encoding/EncoderBenchmarks) through BenchmarkDotNet
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Onnx -- leak 600  RSS while encoding 600 images
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Onnx -- bomb W H old|new|encoder
//        peak RSS decoding a solid W×H JPEG bomb: old = the former limits (178,956,970-pixel cap, full
//        decode), new = the defaults, encoder = the SqueezeNet encoder's decoding (its shorter side 227)
// leak and bomb measure one process's memory over a whole run, which BenchmarkDotNet's repeated invocations do not fit.
using System.Diagnostics;
using System.Globalization;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Preprocessing;
using BenchmarkDotNet.Running;
using GeoToken.Benchmarks.Onnx;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string model = OnnxTestData.Model;
string[] photos = OnnxTestData.Photos;
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

BenchmarkSwitcher.FromAssembly(typeof(OnnxTestData).Assembly).Run(args);

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

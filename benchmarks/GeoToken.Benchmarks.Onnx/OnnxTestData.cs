using System.Globalization;
using SkiaSharp;

namespace GeoToken.Benchmarks.Onnx;

/// <summary>The photos and the SqueezeNet model of tests/GeoToken.Onnx.Tests/TestData, copied next to the benchmark.</summary>
internal static class OnnxTestData
{
    /// <summary>The folder: next to the binaries, or (in a BenchmarkDotNet child process built elsewhere) above them in the repository.</summary>
    public static string Folder { get; } = Find();

    /// <summary>The SqueezeNet 1.0 model (227×227 input, 512-d pool10_flattened output).</summary>
    public static string Model => Path.Combine(Folder, "models", "squeezenet_snacks.onnx");

    /// <summary>The real 640×480 JPEGs, in name order.</summary>
    public static string[] Photos => [.. Directory.GetFiles(Path.Combine(Folder, "photos"), "*.jpg").Order(StringComparer.Ordinal)];

    /// <summary>A 12-megapixel camera-sized JPEG (<paramref name="photo"/> scaled up), written to a temporary file the caller deletes.</summary>
    public static string CameraSizedJpeg(string photo)
    {
        using var src = SKBitmap.Decode(photo);
        using var big = src.Resize(new SKImageInfo(4000, 3000), SKFilterQuality.Medium);
        using var data = big.Encode(SKEncodedImageFormat.Jpeg, 90);
        string path = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"geotoken-bench-{Environment.ProcessId}-4000x3000.jpg"));
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    private static string Find()
    {
        string local = Path.Combine(AppContext.BaseDirectory, "TestData");
        if (Directory.Exists(local)) return local;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "GeoToken.Onnx.Tests", "TestData");
            if (Directory.Exists(candidate)) return candidate;
        }

        throw new DirectoryNotFoundException($"tests/GeoToken.Onnx.Tests/TestData not found next to or above {AppContext.BaseDirectory}");
    }
}

// Memory soak of GeoTokenPredictor (issue 17): many PredictAsync calls on a tiny random model over a
// small SynthGeo gallery, recording the managed heap, live TorchSharp tensors and the process RSS.
//
//   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks.Soak -- [--calls 10000] [--every 500] [--samples 0] [--threads 1] [--csv soak.csv]
//
// Defaults: greedy decoding only (--samples adds sampled candidates) on one torch thread, so the run
// takes minutes on a shared machine.
//
// Writes one CSV row every --every calls and prints whether the growth from call 1,000 to the end is
// within the noise of the samples (no timing is judged; the run is a measurement, not a test).
using System.Diagnostics;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Model;
using GeoToken.Decoding;
using GeoToken.IO;
using GeoToken.Prediction;
using GeoToken.SynthGeo;
using TorchSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
int calls = Option("--calls", 10_000), every = Option("--every", 500), samples = Option("--samples", 0), threads = Option("--threads", 1);
torch.set_num_threads(threads);
string csv = args.SkipWhile(a => a != "--csv").Skip(1).FirstOrDefault() ?? "soak.csv";
string dir = Directory.CreateTempSubdirectory("geotoken-soak-").FullName;
try
{
    await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions { OutputDirectory = dir, TrainRows = 2000, TestRows = 500, Dimension = 64, Seed = 7 });
    string model = Path.Combine(dir, "tiny.gtm");
    torch.random.manual_seed(7);
    using (var m = new GeoTokenModel(GeoTokenModelOptions.Tiny with { FeatureDimension = 64, ModalityCount = 1, Dropout = 0 })) GeoTokenModelFile.Save(m, model);

    using var predictor = GeoTokenPredictor.Open(new GeoTokenPredictorOptions
    {
        ModelPath = model,
        Runtimes = [TorchGeoTokenRuntime.Cpu],
        GalleryDirectory = Path.Combine(dir, "train"),
        Pool = new CandidatePoolOptions { Greedy = true, Samples = samples },
        NamePlaces = false,
    });
    using var test = GeoDataset.Open(Path.Combine(dir, "test"));
    var queries = Enumerable.Range(0, (int)test.Rows).Select(r =>
    {
        var v = new float[test.Dimension];
        test.Image.ReadRow(r, v);
        return GeoQuery.FromImageFeatures(v, $"test row {r}");
    }).ToArray();

    var rows = new List<(int Calls, double Seconds, double ManagedMb, long Tensors, double RssMb)>();
    var clock = Stopwatch.StartNew();
    Console.WriteLine($"{calls} PredictAsync calls (greedy + {samples} samples, tiny random model, 2,000-row gallery, 64-d); a row every {every}");
    Console.WriteLine(" calls   seconds  managed MB  live tensors  RSS MB");
    for (int i = 1; i <= calls; i++)
    {
        var p = await predictor.PredictAsync(queries[i % queries.Length]);
        if (p.Locations.Count == 0) throw new InvalidOperationException($"call {i}: no location");
        if (i % every == 0 || i == 1)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var row = (i, clock.Elapsed.TotalSeconds, GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, torch.Tensor.TotalCount, RssMb());
            rows.Add(row);
            Console.WriteLine($"{row.Item1,6}  {row.Item2,8:F1}  {row.Item3,10:F1}  {row.Item4,12}  {row.Item5,6:F0}");
        }
    }

    File.WriteAllLines(csv, ["calls,seconds,managed_mb,live_tensors,rss_mb", .. rows.Select(r => $"{r.Calls},{r.Seconds:F2},{r.ManagedMb:F2},{r.Tensors},{r.RssMb:F1}")]);
    Console.WriteLine($"wrote {Path.GetFullPath(csv)}");

    // Growth from call 1,000 to the end against the noise of the samples (floors: 1 MB managed, one tensor, 8 MB RSS).
    var window = rows.Where(r => r.Calls >= 1000).ToList();
    Judge("managed heap (MB)", window.Select(r => ((double)r.Calls, r.ManagedMb)).ToList(), floor: 1.0);
    Judge("live tensors", window.Select(r => ((double)r.Calls, (double)r.Tensors)).ToList(), floor: 1.0);
    Judge("RSS (MB)", window.Select(r => ((double)r.Calls, r.RssMb)).ToList(), floor: 8.0);
    return 0;
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static void Judge(string what, List<(double X, double Y)> points, double floor)
{
    if (points.Count < 6)
    {
        Console.WriteLine($"{what}: too few samples after call 1,000 to judge");
        return;
    }

    // Growth: the median of the last third of the samples minus the median of the first third (robust
    // to a single odd sample). Noise: the interquartile range of all samples, or a floor.
    static double Median(IEnumerable<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    int third = points.Count / 3;
    double growth = Median(points.TakeLast(third).Select(p => p.Y)) - Median(points.Take(third).Select(p => p.Y));
    var sorted = points.Select(p => p.Y).Order().ToArray();
    double noise = Math.Max(floor, sorted[(3 * sorted.Length) / 4] - sorted[sorted.Length / 4]);
    Console.WriteLine($"{what}: {points[0].Y:F1} at call {points[0].X:F0}, {points[^1].Y:F1} at call {points[^1].X:F0}, range {sorted[0]:F1}..{sorted[^1]:F1}; " +
        $"growth (median of last third − first third) {growth:+0.0;-0.0} vs noise {noise:F1}: {(Math.Abs(growth) <= noise ? "within noise" : "GROWS beyond noise")}");
}

static double RssMb()
{
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return double.Parse(line[6..^2].Trim(), CultureInfo.InvariantCulture) / 1024;
    }

    return Process.GetCurrentProcess().WorkingSet64 / 1048576.0;
}

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

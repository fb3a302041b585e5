using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using GeoToken.Benchmarks.SynthGeo.Simulation;
using GeoToken.Data;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.SynthGeo;

// SynthGeo speed measurement and calibration.
//   bench [BenchmarkDotNet arguments, e.g. --job short]   per-row cost of each generation stage (BenchmarkDotNet)
//   generate  --out DIR [--train N] [--test M] [--dim D] [--modalities 1|3] [--seed S] [--threads T] [--f32] [--model model.json] [--test-locations CSV]
//   calibrate --data DIR [--k 15] [--modality image|loc|text]   (exact search with FAISS IndexFlatIP via /usr/bin/python3)
if (args.Length > 0 && args[0] == "bench") return Bench(args[1..]);
var a = new Args(args);
return a.Command switch
{
    "generate" => await Generate(a),
    "calibrate" => Calibrate(a),
    _ => Usage(),
};

// The per-row cost of each generation stage, through BenchmarkDotNet (Simulation/RowGeneratorBenchmarks).
static int Bench(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(RowGeneratorBenchmarks).Assembly).Run(args);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: generate --out DIR [--train N] [--test M] [--dim D] [--modalities 1|3] [--seed S] [--threads T] [--f32] [--model model.json]\n       calibrate --data DIR [--k 15] [--modality image|loc|text]\n       bench [BenchmarkDotNet arguments]");
    return 2;
}

static async Task<int> Generate(Args a)
{
    var model = a.Get("model") is { } path ? SynthGeoModel.FromJson(File.ReadAllText(path)) : SynthGeoModel.Default;
    var options = new SynthGeoOptions
    {
        OutputDirectory = a.Require("out"),
        TrainRows = long.Parse(a.Get("train") ?? "100000", CultureInfo.InvariantCulture),
        TestRows = int.Parse(a.Get("test") ?? "2997", CultureInfo.InvariantCulture),
        Dimension = int.Parse(a.Get("dim") ?? "512", CultureInfo.InvariantCulture),
        Modalities = int.Parse(a.Get("modalities") ?? "1", CultureInfo.InvariantCulture),
        Seed = ulong.Parse(a.Get("seed") ?? "1", CultureInfo.InvariantCulture),
        MaxDegreeOfParallelism = int.Parse(a.Get("threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        ElementType = a.Has("f32") ? FeatureElementType.Float32 : FeatureElementType.Float16,
        TestLocationsCsv = a.Get("test-locations"),
        Model = model,
    };
    var last = Stopwatch.StartNew();
    var progress = new Progress<SynthGeoProgress>(p =>
    {
        if (last.ElapsedMilliseconds < 5000 && p.RowsDone != p.RowsTotal) return;
        last.Restart();
        Console.Error.WriteLine($"  {p.Split}: {p.RowsDone:N0} / {p.RowsTotal:N0}");
    });
    var result = await SynthGeoGenerator.GenerateAsync(options, progress);
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"generated {result.TrainRows:N0} train + {result.TestRows:N0} test rows, D={options.Dimension}, modalities={options.Modalities}, {options.ElementType}, threads={options.MaxDegreeOfParallelism}: {result.Elapsed.TotalSeconds:F1} s ({result.TrainRows / result.Elapsed.TotalSeconds:N0} train rows/s); peak working set {self.PeakWorkingSet64 / (1 << 20):N0} MiB, GC heap peak {GC.GetGCMemoryInfo().HeapSizeBytes / (1 << 20):N0} MiB"));
    return 0;
}

static int Calibrate(Args a)
{
    string dir = a.Require("data");
    int k = int.Parse(a.Get("k") ?? "15", CultureInfo.InvariantCulture);
    var modality = (a.Get("modality") ?? "image") switch
    {
        "image" => FeatureModality.Image,
        "loc" => FeatureModality.Location,
        "text" => FeatureModality.Text,
        var m => throw new ArgumentException($"--modality {m}: use image, loc or text."),
    };
    using var gallery = GeoDataset.Open(Path.Combine(dir, "train"));
    using var test = GeoDataset.Open(Path.Combine(dir, "test"));
    test.CheckCompatibleWith(gallery);
    string prefix = Path.Combine(dir, $"knn-{modality.ToString().ToLowerInvariant()}");
    string script = Path.Combine(AppContext.BaseDirectory, "faiss_knn.py");
    var psi = new ProcessStartInfo("/usr/bin/python3", [script, gallery.GetFeaturePath(modality), test.GetFeaturePath(modality), k.ToString(CultureInfo.InvariantCulture), prefix]);
    using (var p = Process.Start(psi)!)
    {
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"faiss_knn.py failed with exit code {p.ExitCode}.");
    }

    using var idx = NpyFile.OpenMatrix<long>(prefix + ".idx.npy", k);
    using var sim = NpyFile.OpenMatrix<float>(prefix + ".sim.npy", k);
    int q = (int)test.Rows;
    var truth = test.GetLocations(0, q).ToArray();
    var nn = new LatLng[q];
    var oracle = new double[q];
    var consensus = new Dictionary<string, LatLng[]>();
    var variants = new (string Name, double Tau, double RadiusKm)[] { ("vote tau=.02 r=25", 0.02, 25), ("vote tau=.02 r=100", 0.02, 100), ("vote tau=.05 r=100", 0.05, 100), ("vote tau=.05 r=300", 0.05, 300), ("vote tau=1 r=100", 1, 100) };
    foreach (var v in variants) consensus[v.Name] = new LatLng[q];
    var locs = new LatLng[k];
    for (int i = 0; i < q; i++)
    {
        var row = idx.GetRow(i);
        var s = sim.GetRow(i);
        for (int j = 0; j < k; j++) locs[j] = gallery.GetLocation(row[j]);
        nn[i] = locs[0];
        oracle[i] = locs.Min(l => Geodesy.HaversineKm(l, truth[i]));
        foreach (var v in variants)
        {
            int best = 0;
            double bestScore = double.MinValue;
            for (int c = 0; c < k; c++)
            {
                double score = 0;
                for (int j = 0; j < k; j++) score += Math.Exp((s[j] - s[0]) / v.Tau) * Math.Exp(-Geodesy.HaversineKm(locs[c], locs[j]) / v.RadiusKm);
                if (score > bestScore)
                {
                    bestScore = score;
                    best = c;
                }
            }

            consensus[v.Name][i] = locs[best];
        }
    }

    Console.WriteLine($"SynthGeo calibration: {gallery.Rows:N0} gallery rows, {q:N0} queries, D={gallery.Dimension}, modality {modality}, exact inner-product search (FAISS IndexFlatIP)");
    Console.WriteLine("| method | 1 km | 25 km | 200 km | 750 km | 2500 km | median km |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    Console.WriteLine("| paper [L]kNN, IM2GPS3K (target) | 7.2 | 19.4 | 26.9 | 38.9 | 55.9 | |");
    Row("SynthGeo 1-NN", GeoMetrics.FromPredictions(nn, truth));
    foreach (var v in variants) Row($"SynthGeo top-{k} {v.Name}", GeoMetrics.FromPredictions(consensus[v.Name], truth));
    Row($"SynthGeo oracle best of top-{k}", GeoMetrics.FromDistances(oracle));
    return 0;

    static void Row(string name, GeoMetrics m) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {m.Acc1Km:F1} | {m.Acc25Km:F1} | {m.Acc200Km:F1} | {m.Acc750Km:F1} | {m.Acc2500Km:F1} | {m.MedianKm:F0} |"));
}

internal sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public Args(string[] args)
    {
        Command = args.Length > 0 ? args[0] : string.Empty;
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            string key = args[i][2..];
            string? value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            _values[key] = value;
        }
    }

    public string Command { get; }

    public bool Has(string key) => _values.ContainsKey(key);

    public string? Get(string key) => _values.GetValueOrDefault(key);

    public string Require(string key) => Get(key) ?? throw new ArgumentException($"--{key} is required.");
}

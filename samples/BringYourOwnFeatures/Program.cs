// Bring your own features: the layout the GeoToken paper's Python code ships (MP16-Pro), used in place.
//
//   dotnet run -c Release --project samples/BringYourOwnFeatures -- \
//       --gallery-meta MP16_Pro_filtered.csv --gallery-features mp16_raw_image_feats.npy \
//       --query-meta im2gps3k_places365.csv --query-features im2gps3k_raw_image_feats.npy [--out DIR]
//
// The CSVs need an id column (IMG_ID) and LAT/LON (other columns are kept); the .npy files are float32 or
// float16 matrices, one row per CSV row, as numpy.save writes them. Nothing is copied: the .npy files are
// memory-mapped, so a 14 GB MP16 feature file opens at once. Without arguments the sample first writes a small
// stand-in in exactly that layout (SynthGeo features under the paper's file names) and runs on it.
using System.Diagnostics;
using System.Globalization;
using GeoToken.Data;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.Retrieval;
using GeoToken.SynthGeo;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string outDir = Path.GetFullPath(Arg("--out") ?? Path.Combine("out", "byof"));
Directory.CreateDirectory(outDir);
string? galleryMeta = Arg("--gallery-meta"), galleryFeatures = Arg("--gallery-features");
string? queryMeta = Arg("--query-meta"), queryFeatures = Arg("--query-features");
if (galleryMeta is null || galleryFeatures is null || queryMeta is null || queryFeatures is null)
{
    Console.WriteLine($"No files given: writing a small stand-in in the paper's layout to {outDir}");
    (galleryMeta, galleryFeatures, queryMeta, queryFeatures) = await WriteStandIn(outDir);
}

// 1. Open the files where they are. Errors name the file, the row and the field (try a truncated .npy).
using var gallery = GeoDataset.Open(new GeoDatasetOptions { MetaFile = Path.GetFullPath(galleryMeta), ImageFeatures = Path.GetFullPath(galleryFeatures) });
using var queries = GeoDataset.Open(new GeoDatasetOptions { MetaFile = Path.GetFullPath(queryMeta), ImageFeatures = Path.GetFullPath(queryFeatures) });
queries.CheckCompatibleWith(gallery);
Console.WriteLine($"gallery: {gallery.Rows:N0} images × {gallery.Dimension} ({gallery.Image.ElementType}), columns {string.Join(",", gallery.MetaColumns)}");
Console.WriteLine($"queries: {queries.Rows:N0} images × {queries.Dimension} ({queries.Image.ElementType})");

// 2. The k = 15 nearest gallery images of every query (exact inner-product search on normalised features).
var clock = Stopwatch.StartNew();
using var index = NeighborIndex.Open(gallery.Image, indexPath: null);
var neighbors = index.Search(queries.Image, new SearchOptions { K = 15 });
Console.WriteLine($"15-NN of {queries.Rows:N0} queries in {clock.Elapsed.TotalSeconds:F1} s");

// 3. The retrieval baselines the paper reports: top-1 neighbor ([L]kNN), and the similarity-weighted
//    neighbor whose location most others agree with (a training-free consensus).
int n = (int)queries.Rows;
var truth = new LatLng[n];
var top1 = new LatLng[n];
var consensus = new LatLng[n];
for (int q = 0; q < n; q++)
{
    truth[q] = queries.GetLocation(q);
    var ids = neighbors.IndicesOf(q);
    var sims = neighbors.SimilaritiesOf(q);
    top1[q] = gallery.GetLocation(ids[0]);
    double best = double.NegativeInfinity;
    for (int i = 0; i < ids.Length; i++)
    {
        var p = gallery.GetLocation(ids[i]);
        double support = 0;
        for (int j = 0; j < ids.Length; j++) support += sims[j] * Math.Exp(-Geodesy.HaversineKm(p, gallery.GetLocation(ids[j])) / 25);
        if (support > best) (best, consensus[q]) = (support, p);
    }
}

foreach (var s in new[] { StrategyEvaluation.Create("knn (top-1)", top1, truth), StrategyEvaluation.Create("knn consensus (k = 15)", consensus, truth) })
{
    var m = s.Metrics;
    Console.WriteLine($"{s.Name,-24} " + string.Join("  ", GeoMetrics.StandardThresholdsKm.Zip(m.Accuracies, (t, a) => $"≤{t} km {a,5:F1}%")) + $"  median {m.MedianKm:F0} km");
}

// 4. The dataset-folder form the CLI trains on, as links to the same files (nothing copied).
string folder = Path.Combine(outDir, "gallery-folder");
Directory.CreateDirectory(folder);
Link(Path.Combine(folder, "meta.csv"), galleryMeta);
Link(Path.Combine(folder, "image.npy"), galleryFeatures);
Console.WriteLine($"""

    {folder} now links to your files. Train and evaluate on them with the CLI:
      geotoken train --train {folder} --out model --preset small
    (a query folder is made the same way: meta.csv + image.npy, optionally loc.npy and text.npy for three views).
    """);
return 0;

static void Link(string link, string target)
{
    if (File.Exists(link)) File.Delete(link);
    File.CreateSymbolicLink(link, Path.GetFullPath(target));
}

static async Task<(string, string, string, string)> WriteStandIn(string dir)
{
    var synth = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions
    {
        OutputDirectory = Path.Combine(dir, "synthgeo"),
        TrainRows = 20_000,
        TestRows = 500,
        Dimension = 128,
        ElementType = FeatureElementType.Float32,
    });
    var (galleryCsv, galleryNpy) = Place(synth.TrainDirectory, dir, "MP16_Pro_filtered.csv", "mp16_raw_image_feats.npy");
    var (queryCsv, queryNpy) = Place(synth.TestDirectory, dir, "im2gps3k_places365.csv", "im2gps3k_raw_image_feats.npy");
    return (galleryCsv, galleryNpy, queryCsv, queryNpy);
}

/// <summary>Moves a dataset folder's meta.csv and image.npy to the paper's file names.</summary>
static (string Csv, string Npy) Place(string folder, string dir, string csvName, string npyName)
{
    string csv = Path.Combine(dir, csvName), npy = Path.Combine(dir, npyName);
    File.Move(Path.Combine(folder, "meta.csv"), csv, overwrite: true);
    File.Move(Path.Combine(folder, "image.npy"), npy, overwrite: true);
    return (csv, npy);
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

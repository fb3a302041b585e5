// Index and query real photos: GPS from EXIF → an ONNX image encoder → a gallery dataset → nearest photos with
// their places.
//
//   dotnet run -c Release --project samples/PhotoFolder -- [--photos DIR] [--encoder MODEL.onnx]
//                                                          [--preprocess clip|imagenet|caffe-squeezenet] [--encoder-output NAME] [--query PHOTO]
//
// Defaults: the nine real geotagged photos (Tuscany, CC BY-SA 4.0, github ianare/exif-samples) and the trained
// SqueezeNet that the encoder tests use (its penultimate layer; a snack classifier: real features, but not a geolocation model, so
// expect neighbors by look, not by place). Give a CLIP-style encoder for meaningful geography.
// Re-running encodes only photos that are new or changed; photos without GPS are listed, never dropped silently.
using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Onnx;
using GeoToken.Photos;
using GeoToken.Places;
using GeoToken.Preprocessing;
using GeoToken.Retrieval;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string root = FindRepositoryRoot();
string photos = Path.GetFullPath(Arg("--photos") ?? Path.Combine(root, "tests", "GeoToken.Onnx.Tests", "TestData", "photos"));
string encoderPath = Path.GetFullPath(Arg("--encoder") ?? Path.Combine(root, "tests", "GeoToken.Onnx.Tests", "TestData", "models", "squeezenet_snacks.onnx"));
var preprocessing = (Arg("--preprocess") ?? (Arg("--encoder") is null ? "caffe-squeezenet" : "clip")) switch
{
    "clip" => ImagePreprocessing.Clip,
    "imagenet" => ImagePreprocessing.ImageNet,
    "caffe-squeezenet" => ImagePreprocessing.CaffeSqueezeNet,
    var other => throw new ArgumentException($"--preprocess {other}: use clip, imagenet or caffe-squeezenet."),
};
string galleryDir = Path.GetFullPath(Path.Combine("out", "photo-gallery"));

// 1. Photo folder → gallery dataset (meta.csv with IMG_ID, LAT, LON + image.npy), incrementally.
using var encoder = new OnnxImageEncoder(encoderPath, new OnnxImageEncoderOptions { Preprocessing = preprocessing, OutputName = Arg("--encoder-output") ?? (Arg("--encoder") is null ? "pool10_flattened" : null) });
var built = await new PhotoGalleryBuilder(encoder).BuildAsync(photos, galleryDir);
Console.WriteLine($"{photos}: {built.Rows} photos with GPS in the gallery ({built.Encoded} encoded now, {built.Unchanged} unchanged); " +
    $"{built.WithoutGps.Count} without GPS, {built.Excluded.Count} unusable — see {built.ReportPath}");
foreach (var p in built.WithoutGps) Console.WriteLine($"  no GPS: {p.RelativePath}");
Console.WriteLine($"encoder: {Path.GetFileName(encoderPath)}, input {encoder.InputName}, output {encoder.OutputName}, {encoder.Dimension}-d features");

// 2. Query: each gallery photo against the others (leave one out), or the photo given with --query.
using var gallery = GeoDataset.Open(galleryDir);
using var index = NeighborIndex.Open(gallery.Image, indexPath: null);
var places = GeoNamesCities.Default;
if (Arg("--query") is { } queryPhoto)
{
    var features = await encoder.EncodeAsync(File.OpenRead(queryPhoto), queryPhoto);
    var result = index.Search(FeatureMatrix.FromArray(features, features.Length), new SearchOptions { K = Math.Min(3, (int)gallery.Rows) });
    Console.WriteLine($"{Path.GetFileName(queryPhoto)} looks most like:");
    Show(result, 0);
}
else
{
    var result = index.Search(gallery.Image, new SearchOptions { K = Math.Min(3, (int)gallery.Rows - 1), ExcludeSelf = true });
    var errors = new List<double>();
    for (int q = 0; q < gallery.Rows; q++)
    {
        var truth = gallery.GetLocation(q);
        var guess = gallery.GetLocation(result.IndicesOf(q)[0]);
        errors.Add(Geodesy.HaversineKm(truth, guess));
        Console.WriteLine($"{gallery.GetImageId(q)} (taken near {places.Nearest(truth).Name}) looks most like:");
        Show(result, q);
    }

    Console.WriteLine($"leave-one-out: the most similar other photo was taken a median {errors.Order().ElementAt(errors.Count / 2):F2} km away.");
}

return 0;

void Show(NeighborResults result, long q)
{
    var ids = result.IndicesOf(q);
    var sims = result.SimilaritiesOf(q);
    for (int j = 0; j < ids.Length; j++)
    {
        var at = gallery.GetLocation(ids[j]);
        var place = places.NearestPlaces(at, 1)[0];
        Console.WriteLine($"   {gallery.GetImageId(ids[j]),-14} similarity {sims[j]:F3}  at {at.Latitude:F4}, {at.Longitude:F4}  ({place.City.Name}, {place.City.CountryCode}, {place.DistanceKm:F1} km)");
    }
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "GeoToken.sln"))) return dir.FullName;
    }

    return Directory.GetCurrentDirectory();
}

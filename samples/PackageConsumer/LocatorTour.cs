using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Hosting.DependencyInjection;
using GeoToken.Hosting.Locating;
using GeoToken.Model;
using GeoToken.Onnx;
using GeoToken.Photos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

/// <summary>
/// GeoToken.Hosting: <c>services.AddGeoToken</c> and the one-call <see cref="GeoLocator"/>, over a gallery of nine real
/// geotagged photos encoded by a real SqueezeNet (its 512-d penultimate layer) and a small untrained model reading it.
/// </summary>
internal static class LocatorTour
{
    public static async Task<string> RunAsync(string dir, CancellationToken cancellationToken)
    {
        string data = Path.Combine(AppContext.BaseDirectory, "data");
        string photos = Path.Combine(data, "photos"), gallery = Path.Combine(dir, "photo-gallery"), modelPath = Path.Combine(dir, "photo-model");
        var encoder = new GeoLocatorEncoderOptions { Path = Path.Combine(data, "squeezenet_snacks.onnx"), Preprocessing = "caffe-squeezenet", OutputName = "pool10_flattened" };

        // The gallery: GPS from each photo's EXIF, features from the encoder (GeoToken.Onnx).
        using (var onnx = new OnnxImageEncoder(encoder.Path, encoder.ToEncoderOptions()))
        {
            var built = await new PhotoGalleryBuilder(onnx, new PhotoGalleryOptions { ElementType = FeatureElementType.Float32 })
                .BuildAsync(photos, gallery, null, cancellationToken);
            Expect.That(built.Rows == 9, $"photo gallery: {built.Rows} rows from the nine photos");
        }

        using (var model = new GeoTokenModel(new GeoTokenModelOptions
        {
            ModelDimension = 32, HeadCount = 4, FeedForwardDimension = 64, EncoderLayers = 1, DecoderLayers = 1,
            ModalityCount = 1, FeatureDimension = 512, NeighborCount = 3,
        }))
        {
            GeoTokenModelFile.Save(model, modelPath);
        }

        var services = new ServiceCollection().AddGeoToken(o =>
        {
            o.ModelPath = modelPath;
            o.GalleryDirectory = gallery;
            o.Encoders.Add(encoder);
            o.Samples = 4;
        });
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var locator = provider.GetRequiredService<GeoLocator>();
        Expect.That(ReferenceEquals(locator, provider.GetRequiredService<GeoLocator>()), "AddGeoToken: the locator is not a singleton");

        using var rows = GeoDataset.Open(gallery);
        string photo = Directory.GetFiles(photos, "*.jpg").Order(StringComparer.Ordinal).ElementAt(4);
        long row = Enumerable.Range(0, (int)rows.Rows).Single(r => Path.GetFileName(rows.GetImageId(r)) == Path.GetFileName(photo));
        var p = await locator.LocateAsync(photo, cancellationToken);
        Expect.That(p.Id == Path.GetFileName(photo) && p.DecidedBy == "consensus", $"locator: id {p.Id}, decided by {p.DecidedBy}");
        Expect.That(p.Best.CellToken is { } token && S2CellId.FromToken(token).Level == 20, $"locator: best cell {p.Best.CellToken} is not a level-20 cell");
        Expect.That(p.Best.Place is not null && double.IsFinite(p.UncertaintyKm) && p.UncertaintyKm >= 0, $"locator: place {p.Best.Place}, radius {p.UncertaintyKm} km");

        // The photo is in the gallery, encoded by the same encoder: it is its own nearest neighbor (cosine 1 up to the
        // float32 rounding of a 512-d embedding and ONNX Runtime's kernels, well under 1e-4), the others clearly below.
        Expect.That(p.Neighbors.Count == 3 && p.Neighbors[0].Row == row, $"locator: nearest neighbor row {p.Neighbors.FirstOrDefault()?.Row}, the photo is row {row}");
        Expect.That(Math.Abs(p.Neighbors[0].Similarity - 1) <= 1e-4 && p.Neighbors[1].Similarity < 1 - 1e-3, $"locator: similarities {string.Join(", ", p.Neighbors.Select(n => n.Similarity))}");
        Expect.That(p.Neighbors[0].Position == rows.GetLocation(row), $"locator: the neighbor is at {p.Neighbors[0].Position}, the photo's EXIF says {rows.GetLocation(row)}");

        // Bad options fail validation, each named.
        using var bad = new ServiceCollection().AddGeoToken(o => { o.GalleryDirectory = gallery; o.Samples = -1; }).BuildServiceProvider();
        var e = Expect.Throws<OptionsValidationException>(() => bad.GetRequiredService<GeoLocator>(), "Samples is -1", "AddGeoToken with bad options");
        Expect.That(e.Failures.Any(f => f.Contains("ModelPath is empty", StringComparison.Ordinal)), $"AddGeoToken with bad options: [{string.Join("; ", e.Failures)}]");

        return $"locator (GeoToken.Hosting, AddGeoToken): {Path.GetFileName(photo)} → {p.Best.Place!.Name} (an untrained model); its own gallery row nearest at cosine {p.Neighbors[0].Similarity:F5}";
    }
}

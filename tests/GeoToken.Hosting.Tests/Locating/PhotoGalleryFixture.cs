using GeoToken.Data;
using GeoToken.Hosting.Locating;
using GeoToken.Model;
using GeoToken.Onnx;
using GeoToken.Photos;
using GeoToken.Preprocessing;
using GeoToken.Tokens;
using TorchSharp;

namespace GeoToken.Hosting.Tests.Locating;

/// <summary>
/// A gallery of the nine real geotagged photos encoded by the bundled SqueezeNet (its 512-d penultimate layer, float32),
/// and a tiny untrained GeoToken model that reads those features, saved to a temporary folder.
/// </summary>
public sealed class PhotoGalleryFixture : IAsyncLifetime
{
    public const string Penultimate = "pool10_flattened";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "geotoken-hosting-tests", Guid.NewGuid().ToString("N"));

    public static string TestData { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string SqueezeNet { get; } = Path.Combine(TestData, "models", "squeezenet_snacks.onnx");

    /// <summary>The nine photos, sorted by name.</summary>
    public static IReadOnlyList<string> Photos { get; } = [.. Directory.GetFiles(Path.Combine(TestData, "photos"), "*.jpg").Order(StringComparer.Ordinal)];

    public string Gallery => Path.Combine(_dir, "gallery");

    public string ModelPath => Path.Combine(_dir, "model");

    /// <summary>Locator options over the fixture (a fresh object per call).</summary>
    public GeoLocatorOptions Options() => new()
    {
        ModelPath = ModelPath,
        GalleryDirectory = Gallery,
        Encoders = [new GeoLocatorEncoderOptions { Path = SqueezeNet, Preprocessing = "caffe-squeezenet", OutputName = Penultimate }],
        Samples = 6,
    };

    public async ValueTask InitializeAsync()
    {
        string photos = Path.Combine(_dir, "photos");
        Directory.CreateDirectory(photos);
        foreach (var p in Photos) File.Copy(p, Path.Combine(photos, Path.GetFileName(p)));
        using (var encoder = new OnnxImageEncoder(SqueezeNet, new OnnxImageEncoderOptions { Preprocessing = ImagePreprocessing.CaffeSqueezeNet, OutputName = Penultimate }))
        {
            var built = await new PhotoGalleryBuilder(encoder, new PhotoGalleryOptions { ElementType = FeatureElementType.Float32 })
                .BuildAsync(photos, Gallery, null, TestContext.Current.CancellationToken);
            Assert.Equal(Photos.Count, built.Rows);
        }

        torch.random.manual_seed(7);
        using var model = new GeoTokenModel(new GeoTokenModelOptions
        {
            ModelDimension = 32,
            HeadCount = 4,
            FeedForwardDimension = 64,
            EncoderLayers = 2,
            DecoderLayers = 2,
            ModalityCount = 1,
            FeatureDimension = 512,
            NeighborCount = 3,
            Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 },
        });
        GeoTokenModelFile.Save(model, ModelPath);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

using System.Globalization;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Reranking;

/// <summary>
/// Compares the imported GeoCLIP model with benchmarks/peers/geoclip_peer.py, our PyTorch implementation of GeoCLIP's
/// forward pass (checked to match GeoCLIP's own code bit for bit), on the same files: GeoCLIP's real image MLP and
/// logit scale (TestData/geoclip) and a location encoder with GeoCLIP's names and shapes and random weights.
/// </summary>
public sealed class GeoClipOracleTests : IDisposable
{
    private readonly string _dir;

    public GeoClipOracleTests()
    {
        _dir = Path.GetDirectoryName(TestData.TempPath("geoclip"))!;
        string source = Path.Combine(AppContext.BaseDirectory, "TestData", "geoclip");
        foreach (var name in new[] { GeoClipImporter.ImageMlpFileName, GeoClipImporter.LogitScaleFileName })
        {
            File.Copy(Path.Combine(source, name), Path.Combine(_dir, name));
        }

        PythonPeer.Run("geoclip_peer.py", "make-location", "--out", Path.Combine(_dir, GeoClipImporter.LocationEncoderFileName), "--seed", "11");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Points over the globe: the poles, both sides of the antimeridian, (0, 0), near-pole and random points (float32 values).</summary>
    internal static LatLng[] GlobePoints(int random, int seed)
    {
        var points = new List<(float Lat, float Lon)>
        {
            (0, 0), (90, 0), (-90, 0), (90, 180), (-90, -180), (0, 180), (0, -180), (45, 179.99f), (45, -179.99f),
            (89.999f, 10), (-89.999f, -10), (51.5074f, -0.1278f), (-33.8688f, 151.2093f), (64.1466f, -21.9426f),
        };
        var rng = new Random(seed);
        for (int i = 0; i < random; i++) points.Add(((float)(Math.Asin(rng.NextDouble() * 2 - 1) * 180 / Math.PI), (float)(rng.NextDouble() * 360 - 180)));
        return points.Select(p => new LatLng(p.Lat, p.Lon)).ToArray();
    }

    [Fact]
    public void Image_and_location_embeddings_match_the_pytorch_oracle_row_by_row()
    {
        using var model = GeoClipImporter.ImportDirectory(_dir, TestContext.Current.CancellationToken);
        Assert.Equal(SimilarityLocationInput.EqualEarth, model.Options.LocationInput);
        Assert.Equal((768, 768, 512, 1024, 256), (model.Options.FeatureDimension, model.Options.ImageHiddenDimension, model.Options.EmbeddingDimension, model.Options.LocationHiddenDimension, model.Options.FourierFeatures));

        // CLIP-like features: CLIP ViT-L/14 image features are unnormalised 768-d vectors of norm ≈ 10–30 with a
        // shared mean direction; Gaussian rows around a common offset have that character.
        const int n = 64;
        var rng = new Random(5);
        var offset = Enumerable.Range(0, 768).Select(_ => Gaussian(rng) * 0.4).ToArray();
        var features = new float[n * 768];
        for (int i = 0; i < features.Length; i++) features[i] = (float)(offset[i % 768] + Gaussian(rng) * 0.6);
        var points = GlobePoints(300, seed: 6);
        var latLon = points.SelectMany(p => new[] { (float)p.Latitude, (float)p.Longitude }).ToArray();

        string featuresPath = Path.Combine(_dir, "features.npy"), locationsPath = Path.Combine(_dir, "locations.npy");
        string imagesOut = Path.Combine(_dir, "images-out.npy"), locationsOut = Path.Combine(_dir, "locations-out.npy");
        NpyFile.Write(featuresPath, features, 768);
        NpyFile.Write(locationsPath, latLon, 2);
        string stdout = PythonPeer.Run("geoclip_peer.py", "embed", "--weights", _dir, "--features", featuresPath, "--images-out", imagesOut,
            "--locations", locationsPath, "--locations-out", locationsOut);
        double peerScale = double.Parse(stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Assert.Equal(1 / Math.Exp(peerScale), model.Temperature, 7);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ourImages = model.EmbedImages(tensor(features, [n, 768])).data<float>().ToArray();
        var ourLocations = model.EmbedPositions(points).data<float>().ToArray();
        AssertRowsAgree("image", ourImages, NpyFile.ReadAll<float>(imagesOut), 512, i => $"feature row {i}");
        AssertRowsAgree("location", ourLocations, NpyFile.ReadAll<float>(locationsOut), 512, i => $"({points[i].Latitude}, {points[i].Longitude})");
    }

    [Fact]
    public void A_missing_weight_file_is_named()
    {
        File.Delete(Path.Combine(_dir, GeoClipImporter.LogitScaleFileName));
        var e = Assert.Throws<FileNotFoundException>(() => GeoClipImporter.ImportDirectory(_dir, TestContext.Current.CancellationToken));
        Assert.Contains(GeoClipImporter.LogitScaleFileName, e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => GeoClipImporter.ImportDirectory(Path.Combine(_dir, "nowhere"), TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// Both sides compute in float32 with the same operations, but libtorch may pick other kernels (summation order,
    /// FMA) per CPU; at σ = 256 the Fourier angles reach a few thousand radians, where a float32 ulp is ~5e-4 rad. The
    /// embeddings must still agree to a cosine of 0.9999 per row, and be unit rows.
    /// </summary>
    internal static void AssertRowsAgree(string what, float[] ours, float[] theirs, int d, Func<int, string> name)
    {
        Assert.Equal(theirs.Length, ours.Length);
        double worst = 1;
        string worstRow = "";
        for (int i = 0; i < ours.Length / d; i++)
        {
            double dot = 0, a = 0, b = 0;
            for (int j = 0; j < d; j++)
            {
                double x = ours[i * d + j], y = theirs[i * d + j];
                dot += x * y;
                a += x * x;
                b += y * y;
            }

            Assert.True(Math.Abs(a - 1) < 1e-5, $"our {what} embedding of {name(i)} has squared norm {a}");
            double cos = dot / Math.Sqrt(a * b);
            if (cos < worst)
            {
                worst = cos;
                worstRow = name(i);
            }
        }

        Assert.True(worst >= 0.9999, $"{what} embeddings: lowest cosine 1 − {1 - worst:E2} at {worstRow}");
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

using System.Numerics.Tensors;
using GeoToken.Embeddings;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Preprocessing;
using SkiaSharp;

namespace GeoToken.Onnx.Tests.Onnx;

/// <summary>One SqueezeNet encoder (penultimate layer, Caffe preset) and its embeddings of the photos and synthetic images, shared by the tests.</summary>
public sealed class SqueezeNetFixture : IAsyncLifetime
{
    public OnnxImageEncoder Encoder { get; } = new(TestData.SqueezeNet, SqueezeNetEncoderTests.Penultimate());

    /// <summary>Nine photos, then three synthetic images: mid grey, the test pattern (gradients and noise), solid blue.</summary>
    public List<RgbImage> Images { get; } =
        [.. TestData.Photos.Select(p => ImageDecoder.Decode(p)), Fixtures.Solid(300, 200, 128, 128, 128), Fixtures.Pattern(300, 200), Fixtures.Solid(300, 200, 30, 90, 200)];

    /// <summary>Embeddings of <see cref="Images"/> in batches of 8.</summary>
    public ImageEmbeddings Embeddings { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Embeddings = await Encoder.EncodeAsync(Images);

    public ValueTask DisposeAsync()
    {
        Encoder.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The real SqueezeNet on the nine real photos.</summary>
public sealed class SqueezeNetEncoderTests(SqueezeNetFixture fixture) : IClassFixture<SqueezeNetFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The penultimate layer: the 512 global-average-pooled fire9 channels (an intermediate tensor of the graph).</summary>
    internal static OnnxImageEncoderOptions Penultimate(int batchSize = 8) => new()
    {
        Preprocessing = ImagePreprocessing.CaffeSqueezeNet,
        OutputName = "pool10_flattened",
        BatchSize = batchSize,
    };

    private static float Cos(ImageEmbeddings e, int i, int j) => TensorPrimitives.CosineSimilarity(e[i], e[j]);

    [Fact]
    public void Detects_input_and_batch_from_the_model_and_the_dimension_of_an_intermediate_output()
    {
        using var encoder = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate());
        Assert.Equal("data", encoder.InputName);
        Assert.Equal("pool10_flattened", encoder.OutputName);
        Assert.Null(encoder.FixedBatchSize);
        Assert.Equal(512, encoder.Dimension);

        using var logits = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { OutputName = "fc" });
        Assert.Equal(10, logits.Dimension);
    }

    [Fact]
    public async Task Photo_embeddings_are_finite_unit_deterministic_and_batching_does_not_change_them()
    {
        var a = fixture.Embeddings; // batches of 8 (photos 1-8, then photo 9 with the synthetic images)
        Assert.Equal((12, 512), (a.Count, a.Dimension));
        for (int i = 0; i < a.Count; i++)
        {
            Assert.All(a[i].ToArray(), v => Assert.True(float.IsFinite(v)));
            Assert.Equal(1f, TensorPrimitives.Norm(a[i]), 1e-5f);
        }

        // One by one from the files, with progress after each image.
        using var single = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate(batchSize: 1));
        var progress = new List<EncodeProgress>();
        var one = await single.EncodeAsync(TestData.Photos, new SynchronousProgress<EncodeProgress>(progress.Add), Ct);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => new EncodeProgress(i, 9)), progress);
        float maxDiff = 0;
        for (int i = 0; i < one.Values.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(a.Values[i] - one.Values[i]));
        Assert.True(maxDiff <= 1e-6f, $"a batch of 8 and one by one differ by {maxDiff}");

        // Raw (unnormalised) outputs are ReLU averages: non-negative, and not already unit length.
        using var raw = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { L2Normalize = false });
        var r = await raw.EncodeAsync([fixture.Images[0]], cancellationToken: Ct);
        Assert.All(r.Values.ToArray(), v => Assert.True(v >= 0));
        float norm = TensorPrimitives.Norm(r[0]);
        Assert.True(Math.Abs(norm - 1) > 0.1, $"raw norm {norm}");
        Assert.Equal(a[0].ToArray(), r[0].ToArray().Select(v => v / norm).ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Photos_are_closer_to_each_other_than_to_synthetic_images()
    {
        var e = fixture.Embeddings;
        float minPhotoPhoto = 1, maxPhotoSynthetic = -1;
        for (int i = 0; i < 9; i++)
        {
            for (int j = i + 1; j < 9; j++) minPhotoPhoto = Math.Min(minPhotoPhoto, Cos(e, i, j));
            for (int s = 9; s < 12; s++) maxPhotoSynthetic = Math.Max(maxPhotoSynthetic, Cos(e, i, s));
        }

        Assert.True(minPhotoPhoto > maxPhotoSynthetic, $"least similar photo pair {minPhotoPhoto}, most photo-like synthetic image {maxPhotoSynthetic}");

        // The six street scenes of the old town (DSCN0025 … DSCN0042) form a tight group.
        float minStreet = 1, maxStreetSynthetic = -1;
        for (int i = 3; i < 9; i++)
        {
            for (int j = i + 1; j < 9; j++) minStreet = Math.Min(minStreet, Cos(e, i, j));
            for (int s = 9; s < 12; s++) maxStreetSynthetic = Math.Max(maxStreetSynthetic, Cos(e, i, s));
        }

        Assert.True(minStreet > maxStreetSynthetic + 0.25f, $"street photos {minStreet}, street vs synthetic {maxStreetSynthetic}");
    }

    [Fact]
    public async Task The_Caffe_preset_is_the_right_normalisation_and_ImageNet_normalisation_blinds_the_network()
    {
        // The model's own description of its input, and the Caffe mean inside its graph.
        var (nodes, _) = OnnxProtobuf.ReadGraph(File.ReadAllBytes(TestData.SqueezeNet));
        Assert.Equal(["ImageScaler", "BatchNormalization", "Conv"], nodes.Take(3).Select(n => n.Op));

        // Photos 0, 2, 4, 6, 8 (park and street) and the three synthetic images.
        int[] pick = [0, 2, 4, 6, 8, 9, 10, 11];
        const int photos = 5;
        float Separation(ImageEmbeddings e, Func<int, int> row)
        {
            float minPhoto = 1, maxSynthetic = -1;
            for (int i = 0; i < photos; i++)
            {
                for (int j = i + 1; j < photos; j++) minPhoto = Math.Min(minPhoto, TensorPrimitives.CosineSimilarity(e[row(i)], e[row(j)]));
                for (int s = photos; s < pick.Length; s++) maxSynthetic = Math.Max(maxSynthetic, TensorPrimitives.CosineSimilarity(e[row(i)], e[row(s)]));
            }

            return minPhoto - maxSynthetic;
        }

        using var imageNet = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with
        {
            Preprocessing = ImagePreprocessing.ImageNet with { ResizeShorterSide = 227, CropWidth = 227, CropHeight = 227 },
        });
        var good = fixture.Embeddings;
        var bad = await imageNet.EncodeAsync([.. pick.Select(i => fixture.Images[i])], cancellationToken: Ct);

        // ImageNet values (about −2 … 2.6) minus the in-graph Caffe mean (~110) are a nearly uniform
        // image: every embedding looks alike and a grey square is as "photo-like" as any photo.
        float goodSeparation = Separation(good, i => pick[i]), badSeparation = Separation(bad, i => i);
        Assert.True(goodSeparation > 0, $"Caffe preset separation {goodSeparation}");
        Assert.True(badSeparation < 0, $"ImageNet preset separation {badSeparation}");
        float minBad = 1;
        for (int i = 0; i < bad.Count; i++) for (int j = i + 1; j < bad.Count; j++) minBad = Math.Min(minBad, Cos(bad, i, j));
        Assert.True(minBad > 0.95f, $"with ImageNet normalisation the least similar pair still has cosine {minBad}");
    }

    [Fact]
    public async Task Paths_streams_and_decoded_images_give_the_same_embeddings_and_CMYK_and_grey_photos_encode()
    {
        var encoder = fixture.Encoder;
        // A batch of 3 or of 1 against the fixture's batch of 8: ONNX Runtime picks its kernels by CPU and batch
        // shape, so the same pixels give the same embedding up to rounding, within the 1e-6 the batching test allows.
        var fromPaths = await encoder.EncodeAsync(TestData.Photos.Take(3).ToList(), cancellationToken: Ct);
        for (int i = 0; i < 3; i++) Assert.Equal(fixture.Embeddings[i].ToArray(), fromPaths[i].ToArray(), new FloatTolerance(1e-6f));
        await using (var stream = File.OpenRead(TestData.Photos[1]))
        {
            Assert.Equal(fromPaths.GetRow(1), await encoder.EncodeAsync(stream, "photo stream", Ct), new FloatTolerance(1e-6f));
        }

        // GeoCLIP's loader crashes on CMYK and greyscale JPEGs; here they are just photos.
        string original = TestData.Photo("DSCN0010.jpg");
        Assert.Equal(original, TestData.Photos[0]);
        float[] cmyk = (await encoder.EncodeAsync([TestData.CmykPhoto], cancellationToken: Ct)).GetRow(0);
        var similarity = Enumerable.Range(0, 9).Select(i => TensorPrimitives.CosineSimilarity(cmyk, fixture.Embeddings[i])).ToList();
        Assert.True(similarity[0] > 0.95f, $"CMYK copy vs original: {similarity[0]}");
        Assert.Equal(0, similarity.IndexOf(similarity.Max()));

        var rgb = fixture.Images[0];
        byte[] grey = Fixtures.EncodeGreyJpeg(rgb.Width, rgb.Height, (x, y) =>
        {
            var (r, g, b) = rgb.GetPixel(x, y);
            return (byte)((299 * r + 587 * g + 114 * b) / 1000);
        });
        await using var greyStream = new MemoryStream(grey);
        float[] greyEmbedding = await encoder.EncodeAsync(greyStream, "grey.jpg", Ct);
        Assert.Equal(512, greyEmbedding.Length);
        var greySimilarity = Enumerable.Range(0, 9).Select(i => TensorPrimitives.CosineSimilarity(greyEmbedding, fixture.Embeddings[i])).ToList();
        Assert.True(greySimilarity.IndexOf(greySimilarity.Max()) == 0, $"the grey copy is nearest to photo {greySimilarity.IndexOf(greySimilarity.Max())}, not its colour original: {string.Join(", ", greySimilarity)}");
    }

    [Fact]
    public async Task Concurrent_encodings_agree_and_cancellation_stops_the_run()
    {
        using var encoder = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate(batchSize: 3) with { IntraOpThreads = 1 });
        var four = TestData.Photos.Take(4).ToList();
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => encoder.EncodeAsync(four, cancellationToken: Ct)));
        // Another batch size and thread count than the fixture's: equal up to rounding (see above); the concurrent
        // runs share one configuration, so they agree bit for bit.
        Assert.Equal(fixture.Embeddings.Values[..(4 * 512)].ToArray(), runs[0].Values.ToArray(), new FloatTolerance(1e-6f));
        Assert.All(runs, r => Assert.True(r.Values.SequenceEqual(runs[0].Values)));

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var progress = new SynchronousProgress<EncodeProgress>(p => cts.Cancel());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encoder.EncodeAsync(TestData.Photos, progress, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encoder.EncodeAsync(TestData.Photos, null, cts.Token));

        encoder.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => encoder.EncodeAsync(TestData.Photos, cancellationToken: Ct));
    }

    [Fact]
    public async Task A_bad_image_in_the_list_fails_the_run_naming_the_first_bad_file()
    {
        using var dir = new TempDir();
        string notes = dir.File("notes.jpg"), truncated = dir.File("cut.jpg");
        File.WriteAllText(notes, "not a photo");
        File.WriteAllBytes(truncated, File.ReadAllBytes(TestData.Photos[0])[..5000]);
        using var encoder = new OnnxImageEncoder(TestData.SqueezeNet, Penultimate(batchSize: 4));
        string[] paths = [.. TestData.Photos.Take(5), truncated, .. TestData.Photos.Skip(5), notes];
        var e = await Assert.ThrowsAsync<ImageDecodeException>(() => encoder.EncodeAsync(paths, cancellationToken: Ct));
        Assert.StartsWith(truncated + ": ", e.Message, StringComparison.Ordinal);
        Assert.Equal(truncated, e.SourceName);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_and_option_problems_are_reported_with_the_model_file_and_what_to_change()
    {
        using var dir = new TempDir();

        // The model's real outputs are a string label and a ZipMap: no embedding without OutputName.
        var e = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(TestData.SqueezeNet, new OnnxImageEncoderOptions { Preprocessing = ImagePreprocessing.CaffeSqueezeNet }));
        Assert.Contains(TestData.SqueezeNet, e.Message, StringComparison.Ordinal);
        Assert.Contains("'classLabel' String", e.Message, StringComparison.Ordinal);
        Assert.Contains("OutputName", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { OutputName = "pool10_flat" }));
        Assert.Contains("has no tensor 'pool10_flat'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'pool10_flattened'", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { Preprocessing = ImagePreprocessing.Clip }));
        Assert.Contains("takes 227×227 images but the preprocessing crops 224×224", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { Preprocessing = ImagePreprocessing.CaffeSqueezeNet with { Layout = TensorLayout.Nhwc } }));
        Assert.Contains("has its channels first; set Preprocessing.Layout = Nchw", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { OutputName = "classLabel" }));
        Assert.Contains("output 'classLabel' is String", e.Message, StringComparison.Ordinal);

        // Not a model at all: a photo and a text file with the .onnx extension, an empty file, a truncated model.
        byte[] model = File.ReadAllBytes(TestData.SqueezeNet);
        foreach (var (name, bytes) in new[] { ("photo.onnx", File.ReadAllBytes(TestData.Photos[0])), ("text.onnx", "hello"u8.ToArray()), ("empty.onnx", Array.Empty<byte>()), ("cut.onnx", model[..(model.Length / 2)]) })
        {
            string path = dir.File(name);
            File.WriteAllBytes(path, bytes);
            var bad = Assert.Throws<OnnxModelException>(() => new OnnxImageEncoder(path, Penultimate() with { OutputName = null }));
            Assert.StartsWith(path + ": ONNX Runtime cannot load this file as an ONNX model", bad.Message, StringComparison.Ordinal);
        }

        var missing = Assert.Throws<FileNotFoundException>(() => new OnnxImageEncoder(dir.File("nope.onnx")));
        Assert.Contains("nope.onnx", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { BatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => new OnnxImageEncoder(TestData.SqueezeNet, Penultimate() with { Preprocessing = ImagePreprocessing.CaffeSqueezeNet with { Std = ChannelValues.All(0) } }));
    }

    /// <summary>Reports synchronously (System.Progress posts to the thread pool, so its order is not guaranteed).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

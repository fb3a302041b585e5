using System.Numerics.Tensors;
using GeoToken.Data;
using GeoToken.Embeddings;
using GeoToken.Imaging;
using GeoToken.Onnx;
using GeoToken.Onnx.Tests.Onnx;
using GeoToken.Onnx.Tests.Support;
using GeoToken.Photos;

namespace GeoToken.Onnx.Tests.Photos;

public sealed class PhotoGalleryBuilderTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly OnnxImageEncoder _squeezeNet = new(TestData.SqueezeNet, SqueezeNetEncoderTests.Penultimate());
    private readonly CountingEncoder _encoder;

    public PhotoGalleryBuilderTests() => _encoder = new CountingEncoder(_squeezeNet);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Photos => Path.Combine(_dir.Path, "photos");

    private string Gallery => Path.Combine(_dir.Path, "gallery");

    private void Put(string relative, string source) => Put(relative, File.ReadAllBytes(source));

    private void Put(string relative, byte[] bytes)
    {
        string path = Path.Combine(Photos, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Builds with the counting wrapper (named like the SqueezeNet it wraps) or the given encoder (default id).</summary>
    private Task<PhotoGalleryResult> Build(IImageEncoder? encoder = null) =>
        new PhotoGalleryBuilder(encoder ?? _encoder, encoder is null ? new PhotoGalleryOptions { EncoderId = "squeezenet_snacks.onnx:pool10_flattened:227x227" } : null)
            .BuildAsync(Photos, Gallery, null, Ct);

    [Fact]
    public async Task Builds_a_gallery_dataset_and_reports_what_was_left_out()
    {
        for (int i = 0; i < 4; i++) Put($"day{i % 2}/{Path.GetFileName(TestData.Photos[i])}", TestData.Photos[i]);
        Put("no-gps-cmyk.jpg", TestData.CmykPhoto);
        Put("cut.jpg", File.ReadAllBytes(TestData.Photos[4])[..20000]); // GPS readable (EXIF comes first), pixels truncated
        Put("notes.jpg", "not a photo"u8.ToArray());

        var r = await Build();
        Assert.Equal(4, r.Rows);
        Assert.Equal(4, r.Encoded);
        Assert.Equal(["day0/DSCN0010.jpg", "day0/DSCN0021.jpg", "day1/DSCN0012.jpg", "day1/DSCN0025.jpg"], r.Added);
        Assert.True(r.DatasetWritten);
        Assert.Null(r.RebuildReason);
        Assert.Equal(["no-gps-cmyk.jpg"], r.WithoutGps.Select(p => p.RelativePath));
        var cut = r.Excluded.Single(p => p.RelativePath == "cut.jpg");
        Assert.Equal(PhotoStatus.Undecodable, cut.Status);
        Assert.Contains("truncated", cut.Problem, StringComparison.Ordinal);
        Assert.Equal(["cut.jpg", "no-gps-cmyk.jpg", "notes.jpg"], r.Excluded.Select(p => p.RelativePath));

        // The dataset, read back with the data layer.
        using (var ds = GeoDataset.Open(Gallery))
        {
            Assert.Equal(4, ds.Rows);
            Assert.Equal(512, ds.Dimension);
            Assert.Equal(FeatureElementType.Float16, ds.Image.ElementType);
            Assert.Equal(["IMG_ID", "LAT", "LON", "capture_time", "sha256"], ds.MetaColumns);
            Assert.Equal(r.Added, ds.ReadImageIds());
            var direct = await _squeezeNet.EncodeAsync([.. r.Added.Select(p => Path.Combine(Photos, p))], cancellationToken: Ct);
            var row = new float[512];
            for (int i = 0; i < 4; i++)
            {
                string file = Path.Combine(Photos, r.Added[i]);
                Assert.Equal(PhotoMetadata.ReadGps(file), ds.GetLocation(i));
                ds.Image.ReadRow(i, row);
                Assert.True(TensorPrimitives.CosineSimilarity(row, direct[i]) > 0.99999f);
                Assert.Equal(direct[i].ToArray().Select(v => (float)(Half)v), row);
            }

            Assert.Equal("2008-10-22T16:28:39", ds.GetMetaRow(0)[3]);
            Assert.Equal(64, ds.GetMetaRow(0)[4].Length);
        }

        string report = File.ReadAllText(r.ReportPath);
        Assert.Contains("cut.jpg,Undecodable", report, StringComparison.Ordinal);
        Assert.Contains("no-gps-cmyk.jpg,NoGps,,,", report, StringComparison.Ordinal);
        Assert.Contains("notes.jpg,NotAnImage", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Re_running_encodes_only_new_and_changed_photos()
    {
        for (int i = 0; i < 4; i++) Put(Path.GetFileName(TestData.Photos[i]), TestData.Photos[i]);
        Put("cut.jpg", File.ReadAllBytes(TestData.Photos[4])[..20000]);
        var first = await Build();
        Assert.Equal((4, 9), (first.Rows, _encoder.Images)); // the chunk of five failed on cut.jpg, then the four again

        // Nothing changed: nothing read, encoded or written; the broken photo is not retried.
        string image = Path.Combine(Gallery, "image.npy");
        DateTime written = File.GetLastWriteTimeUtc(image);
        _encoder.Images = 0;
        var second = await Build();
        Assert.Equal((4, 4, 0, false), (second.Rows, second.Unchanged, _encoder.Images, second.DatasetWritten));
        Assert.Equal(written, File.GetLastWriteTimeUtc(image));
        Assert.Equal(PhotoStatus.Undecodable, second.Excluded.Single().Status);

        // Two new photos, one a byte-for-byte copy of a gallery photo under another name; one deleted;
        // one touched (new modification time, same content); one replaced by another picture.
        Put("DSCN0027.jpg", TestData.Photos[4]);
        Put("copies/same-as-0010.jpg", TestData.Photos[0]);
        File.Delete(Path.Combine(Photos, "DSCN0012.jpg"));
        File.SetLastWriteTimeUtc(Path.Combine(Photos, "DSCN0021.jpg"), DateTime.UtcNow.AddHours(-1));
        Put("DSCN0025.jpg", TestData.Photos[8]);
        _encoder.Images = 0;
        var third = await Build();
        Assert.Equal(["DSCN0027.jpg", "copies/same-as-0010.jpg"], third.Added);
        Assert.Equal(["DSCN0025.jpg"], third.Updated);
        Assert.Equal(["DSCN0012.jpg"], third.Removed);
        Assert.Equal((2, 1, 2), (third.Unchanged, third.ReusedByHash, third.Encoded)); // 0010 and 0021 kept
        Assert.Equal(2, _encoder.Images);
        Assert.True(third.DatasetWritten);

        using var ds = GeoDataset.Open(Gallery);
        string[] ids = [.. ds.ReadImageIds()];
        Assert.Equal(["DSCN0010.jpg", "DSCN0021.jpg", "DSCN0025.jpg", "DSCN0027.jpg", "copies/same-as-0010.jpg"], ids);
        var expected = await _squeezeNet.EncodeAsync([TestData.Photos[0], TestData.Photos[2], TestData.Photos[8], TestData.Photos[4], TestData.Photos[0]], cancellationToken: Ct);
        var row = new float[512];
        for (int i = 0; i < ids.Length; i++)
        {
            ds.Image.ReadRow(i, row);
            Assert.Equal(expected[i].ToArray().Select(v => (float)(Half)v), row);
        }

        Assert.Equal(PhotoMetadata.ReadGps(TestData.Photos[8]), ds.GetLocation(2));
    }

    [Fact]
    public async Task A_gallery_of_another_encoder_is_refused_and_a_damaged_one_is_rebuilt()
    {
        for (int i = 0; i < 2; i++) Put(Path.GetFileName(TestData.Photos[i]), TestData.Photos[i]);
        await Build();

        using var logits = new OnnxImageEncoder(TestData.SqueezeNet, SqueezeNetEncoderTests.Penultimate() with { OutputName = "fc" });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Build(logits));
        Assert.Contains("holds a gallery of encoder 'squeezenet_snacks.onnx:pool10_flattened:227x227' (512-d); this encoder is 'squeezenet_snacks.onnx:fc:227x227' (10-d)", e.Message, StringComparison.Ordinal);

        // meta.csv no longer matches what dataset.json recorded (an edit, or a crash between the two): everything is encoded again.
        File.WriteAllText(Path.Combine(Gallery, "meta.csv"), File.ReadAllText(Path.Combine(Gallery, "meta.csv")).Replace("DSCN0012.jpg", "renamed.jpg", StringComparison.Ordinal));
        _encoder.Images = 0;
        var r = await Build();
        Assert.Contains("the file changed after the dataset was written", r.RebuildReason, StringComparison.Ordinal);
        Assert.Equal((2, 2, true), (r.Rows, _encoder.Images, r.DatasetWritten));
        using (var ds = GeoDataset.Open(Gallery)) Assert.Equal(["DSCN0010.jpg", "DSCN0012.jpg"], ds.ReadImageIds());

        // No usable photo at all: the report is written and the error points to it.
        File.Delete(Path.Combine(Photos, "DSCN0010.jpg"));
        File.Delete(Path.Combine(Photos, "DSCN0012.jpg"));
        Put("no-gps.jpg", TestData.CmykPhoto);
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => Build());
        Assert.Contains("no usable photo (1 photos: 0 usable, 1 without GPS; 0 other files)", none.Message, StringComparison.Ordinal);
        Assert.Contains("no-gps.jpg,NoGps", File.ReadAllText(Path.Combine(Gallery, PhotoGalleryBuilder.ReportFileName)), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _squeezeNet.Dispose();
        _dir.Dispose();
    }

    /// <summary>Counts the images handed to the real encoder.</summary>
    private sealed class CountingEncoder(IImageEncoder inner) : IImageEncoder
    {
        public int Images { get; set; }

        public int Dimension => inner.Dimension;

        public Task<ImageEmbeddings> EncodeAsync(IReadOnlyList<string> paths, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            Images += paths.Count;
            return inner.EncodeAsync(paths, progress, cancellationToken);
        }

        public Task<ImageEmbeddings> EncodeAsync(IReadOnlyList<RgbImage> images, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            Images += images.Count;
            return inner.EncodeAsync(images, progress, cancellationToken);
        }

        public Task<float[]> EncodeAsync(Stream image, string sourceName, CancellationToken cancellationToken = default)
        {
            Images++;
            return inner.EncodeAsync(image, sourceName, cancellationToken);
        }
    }
}

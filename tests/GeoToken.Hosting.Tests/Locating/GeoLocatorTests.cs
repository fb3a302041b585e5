using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Hosting.Locating;
using GeoToken.Prediction;
using Microsoft.Extensions.Options;

namespace GeoToken.Hosting.Tests.Locating;

/// <summary>The one-call locator: a real photo through the bundled SqueezeNet and a tiny model, end to end.</summary>
public sealed class GeoLocatorTests(PhotoGalleryFixture data) : IClassFixture<PhotoGalleryFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_photo_is_located_with_its_own_gallery_row_as_nearest_neighbor()
    {
        await using var locator = await GeoLocator.OpenAsync(data.Options(), Ct);
        using var gallery = GeoDataset.Open(data.Gallery);
        var ids = Enumerable.Range(0, (int)gallery.Rows).ToDictionary(r => Path.GetFileName(gallery.GetImageId(r)), r => (long)r);
        string photo = PhotoGalleryFixture.Photos[4];
        var p = await locator.LocateAsync(photo, Ct);

        Assert.Equal(Path.GetFileName(photo), p.Id);
        Assert.Equal("consensus", p.DecidedBy);
        Assert.InRange(p.Locations.Count, 1, 7); // greedy + 6 samples, merged by cell
        Assert.NotNull(p.Best.CellToken);
        Assert.Equal(20, S2CellId.FromToken(p.Best.CellToken!).Level);
        Assert.NotNull(p.Best.Place);
        Assert.True(double.IsFinite(p.UncertaintyKm) && p.UncertaintyKm >= 0);

        // The photo is in the gallery, encoded by the same encoder: it is its own nearest neighbor (cosine 1 up to the
        // float32 rounding of a 512-d embedding and of ONNX Runtime's batch-size-dependent kernels, well under 1e-4).
        Assert.Equal(3, p.Neighbors.Count);
        Assert.Equal(ids[Path.GetFileName(photo)], p.Neighbors[0].Row);
        Assert.InRange(p.Neighbors[0].Similarity, 1 - 1e-4, 1 + 1e-4);
        Assert.True(p.Neighbors[1].Similarity < 1 - 1e-3, $"another photo at similarity {p.Neighbors[1].Similarity}");
        Assert.Equal(gallery.GetLocation(p.Neighbors[0].Row), p.Neighbors[0].Position);
    }

    [Fact]
    public async Task Paths_and_streams_give_the_same_answer_and_batches_report_progress()
    {
        var options = data.Options();
        options.BatchSize = 2;
        await using var locator = await GeoLocator.OpenAsync(options, Ct);
        var reports = new List<PredictionProgress>();
        var photos = PhotoGalleryFixture.Photos.Take(3).ToArray();
        var all = await locator.LocateAsync(photos, new SyncProgress(reports.Add), Ct);
        Assert.Equal(photos.Select(Path.GetFileName), all.Select(p => p.Id));
        Assert.Equal([new PredictionProgress(2, 3), new PredictionProgress(3, 3)], reports);

        // One photo alone, from a file and from a stream: the same bytes, the same features, the same answer.
        var fromPath = await locator.LocateAsync(photos[2], Ct);
        await using var stream = File.OpenRead(photos[2]);
        var fromStream = await locator.LocateAsync(stream, Path.GetFileName(photos[2]), Ct);
        Assert.Equal(fromPath.Locations.Select(l => (l.Position, l.Count, l.LogProbability)), fromStream.Locations.Select(l => (l.Position, l.Count, l.LogProbability)));
        Assert.Equal(fromPath.Neighbors, fromStream.Neighbors);
    }

    [Fact]
    public async Task Bad_options_and_an_encoder_that_does_not_fit_the_model_are_named()
    {
        var bad = data.Options();
        bad.ModelPath = "";
        bad.Reranker = "magic";
        bad.Temperature = 0;
        bad.Encoders[0].Preprocessing = "sepia";
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => GeoLocator.OpenAsync(bad, Ct));
        Assert.Contains("GeoLocatorOptions.ModelPath is empty", e.Message, StringComparison.Ordinal);
        Assert.Contains("GeoLocatorOptions.Reranker is 'magic'; use consensus, logprob, mbr, reward", e.Message, StringComparison.Ordinal);
        Assert.Contains("GeoLocatorOptions.Temperature is 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("Encoders[0].Preprocessing is 'sepia'", e.Message, StringComparison.Ordinal);

        var reward = data.Options();
        reward.Reranker = "reward";
        Assert.Contains("RewardHeadPath is not set", (await Assert.ThrowsAsync<OptionsValidationException>(() => GeoLocator.OpenAsync(reward, Ct))).Message, StringComparison.Ordinal);

        // SqueezeNet's 10-class output is not the 512-d layer the gallery and the model were made with.
        var logits = data.Options();
        logits.Encoders[0].OutputName = "fc";
        var mismatch = await Assert.ThrowsAsync<ArgumentException>(() => GeoLocator.OpenAsync(logits, Ct));
        Assert.Contains("gives 10-d features; the model", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("reads 512-d ones", mismatch.Message, StringComparison.Ordinal);
    }

    private sealed class SyncProgress(Action<PredictionProgress> report) : IProgress<PredictionProgress>
    {
        public void Report(PredictionProgress value) => report(value);
    }
}

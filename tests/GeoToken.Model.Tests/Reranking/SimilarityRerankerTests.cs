using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model.Training;
using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Reranking;

public sealed class SimilarityRerankerTests(SimilarityRerankerTests.TrainedFixture fixture) : IClassFixture<SimilarityRerankerTests.TrainedFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The SynthGeo data and a similarity model trained on its gallery, shared by the tests.</summary>
    public sealed class TrainedFixture : IAsyncLifetime
    {
        public SynthGeoFixture Data { get; } = new();

        public SimilarityModel Model { get; private set; } = null!;

        public SimilarityTrainingResult Result { get; private set; } = null!;

        public List<SimilarityTrainingProgress> Reports { get; } = [];

        public async ValueTask InitializeAsync()
        {
            await Data.InitializeAsync();
            Model = new SimilarityModel(Options, seed: 7);
            var progress = new SyncProgress<SimilarityTrainingProgress>(Reports.Add);
            Result = SimilarityTrainer.Train(Model, Data.Train, Training, progress);
        }

        public async ValueTask DisposeAsync()
        {
            Model?.Dispose();
            await Data.DisposeAsync();
        }
    }

    internal static SimilarityModelOptions Options => SimilarityModelOptions.Tiny with { FeatureDimension = 64 };

    internal static SimilarityTrainingOptions Training => new() { Epochs = 25, BatchSize = 256, LearningRate = 2e-3, Seed = 5, ProgressEverySteps = 5 };

    [Fact]
    public void Training_lowers_the_contrastive_loss_and_reports_progress()
    {
        var r = fixture.Result;
        Assert.Equal(25, r.EpochLosses.Count);
        Assert.Equal(25 * (4000 / 256), r.Steps);
        Assert.True(r.EpochLosses[^1] < 0.8 * r.EpochLosses[0], $"epoch losses {string.Join(", ", r.EpochLosses.Select(l => l.ToString("F3")))}");
        Assert.True(r.EpochLosses[0] < Math.Log(256) + 0.5); // starts near ln(batch)
        Assert.Contains(fixture.Reports, p => p.EpochCompleted && p.Epoch == 24);
        Assert.All(fixture.Reports, p => Assert.True(double.IsFinite(p.Loss) && p.Temperature > 0));
    }

    [Fact]
    public async Task The_true_location_outranks_random_gallery_locations_far_more_often_than_chance()
    {
        var trained = new SimilarityReranker(fixture.Model);
        using var untrainedModel = new SimilarityModel(Options, seed: 8);
        var untrained = new SimilarityReranker(untrainedModel);
        var test = fixture.Data.Test;
        var train = fixture.Data.Train;
        var rng = new Random(11);
        int top1 = 0, top1Untrained = 0, n = (int)test.Rows;
        for (int row = 0; row < n; row++)
        {
            var truth = test.GetLocation(row);
            var pool = new List<GeoCandidate> { GeoCandidate.At(truth, CandidateSources.None) };
            for (int j = 0; j < 9; j++) pool.Add(GeoCandidate.At(train.GetLocation(rng.Next((int)train.Rows)), CandidateSources.Retrieval));
            var query = new RerankQuery { Id = row.ToString(), Features = [SynthGeoFixture.Features(test, row)] };
            if ((await trained.RerankAsync(query, pool, Ct)).Best.Candidate.Position == truth) top1++;
            if ((await untrained.RerankAsync(query, pool, Ct)).Best.Candidate.Position == truth) top1Untrained++;
        }

        // Chance is 1 in 10. A 4,000-image SynthGeo gallery is a weak teacher (measured: about 22% top-1 against 10% for
        // an untrained model); the floor checks that contrastive training learned geography, not that it is strong.
        Assert.True(top1 > 0.18 * n, $"the truth ranked first for {top1} of {n} test images (chance ≈ {n / 10}); untrained: {top1Untrained}");
        Assert.True(top1 > 1.7 * top1Untrained, $"trained {top1} vs untrained {top1Untrained} of {n}");
    }

    [Fact]
    public void The_gps_gallery_predictor_beats_a_random_gallery_coordinate()
    {
        using var gallery = GpsGallery.FromDataset(fixture.Model, fixture.Data.Train, Ct);
        Assert.Equal(4000, gallery.Count);
        var test = fixture.Data.Test;
        int n = (int)test.Rows, d = test.Dimension;
        var features = new float[n * d];
        test.Image.ReadRows(0, n, features);
        var predictions = gallery.Predict(features, n, topK: 3);
        var rng = new Random(12);
        var errors = new List<double>();
        var randomErrors = new List<double>();
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(3, predictions[i].Count);
            Assert.True(predictions[i][0].Similarity >= predictions[i][1].Similarity && predictions[i][1].Similarity >= predictions[i][2].Similarity);
            Assert.Equal(gallery.Coordinates[predictions[i][0].Index], predictions[i][0].Position);
            errors.Add(Geodesy.HaversineKm(predictions[i][0].Position, test.GetLocation(i)));
            randomErrors.Add(Geodesy.HaversineKm(gallery.Coordinates[rng.Next(gallery.Count)], test.GetLocation(i)));
        }

        double median = errors.Order().ElementAt(n / 2), randomMedian = randomErrors.Order().ElementAt(n / 2);
        // Measured about 0.8 of a random point's median error on this small gallery.
        Assert.True(median < 0.9 * randomMedian, $"median error {median:F0} km vs {randomMedian:F0} km for a random gallery point");

        // One image alone gives the same answer as in the batch, up to rounding: a batch of one is another matmul
        // shape, so cosine similarities (float32) may move by a few 1e-7. Rank by rank the similarities agree within
        // 1e-5, so a coordinate may differ only where two similarities tie within it; a coordinate in both lists has
        // the same similarity in both.
        var one = gallery.Predict(SynthGeoFixture.Features(test, 5), topK: 3);
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(predictions[5][r].Similarity, one[r].Similarity, 1e-5);
            var same = predictions[5].FirstOrDefault(p => p.Index == one[r].Index);
            if (same is not null) Assert.Equal(same.Similarity, one[r].Similarity, 1e-5);
        }

        Assert.Equal(CandidateSources.GpsGallery, one[0].ToCandidate().Sources);
    }

    [Fact]
    public void The_bundled_geoclip_gallery_has_its_hundred_thousand_coordinates()
    {
        using var gallery = GpsGallery.Create(fixture.Model, GeoToken.Places.GeoClipGallery.Coordinates, cancellationToken: Ct);
        Assert.Equal(100_000, gallery.Count);
        var match = gallery.Predict(SynthGeoFixture.Features(fixture.Data.Test, 0), topK: 1)[0];
        Assert.InRange(match.Index, 0, 99_999);
    }

    [Fact]
    public void The_gps_gallery_searched_through_the_cluster_index_agrees_with_flat_search()
    {
        var coordinates = GeoToken.Places.GeoClipGallery.Coordinates;
        using var flat = GpsGallery.Create(fixture.Model, coordinates, cancellationToken: Ct);
        using var tree = GpsGallery.Create(fixture.Model, coordinates, new GpsGalleryOptions
        {
            ClusterIndex = new GeoToken.Retrieval.ClusterIndexOptions { Clusters = 200, Levels = 2, LeafSize = 64 },
        }, Ct);
        Assert.Null(flat.Index);
        Assert.NotNull(tree.Index);
        var test = fixture.Data.Test;
        int n = (int)test.Rows, d = test.Dimension;
        var features = new float[n * d];
        test.Image.ReadRows(0, n, features);
        var exact = flat.Predict(features, n, topK: 1);
        var descended = tree.Predict(features, n, topK: 1);
        int same = 0;
        for (int i = 0; i < n; i++)
        {
            // Exact search finds the most similar coordinate: the descent can only tie or fall short.
            Assert.True(descended[i][0].Similarity <= exact[i][0].Similarity + 1e-4, $"image {i}: descent {descended[i][0].Similarity} > exact {exact[i][0].Similarity}");
            Assert.Equal(coordinates[descended[i][0].Index], descended[i][0].Position);
            if (descended[i][0].Index == exact[i][0].Index) same++;
        }

        // Measured 286 of 300 with the default beam (a fifth of the leaves) on this weakly trained model.
        Assert.True(same >= 0.9 * n, $"the descent found the exact top-1 coordinate for {same} of {n} images");
    }

    [Fact]
    public async Task A_saved_model_loads_and_scores_identically_and_other_files_are_refused()
    {
        string path = TestData.TempPath("sim.geotoken");
        SimilarityModelFile.Save(fixture.Model, path);
        using var loaded = SimilarityModelFile.Load(path);
        Assert.True(loaded.Options.SameShapeAs(fixture.Model.Options));
        Assert.Equal(fixture.Model.Temperature, loaded.Temperature, 6);
        var test = fixture.Data.Test;
        var pool = Enumerable.Range(0, 8).Select(i => GeoCandidate.At(fixture.Data.Train.GetLocation(i * 97), CandidateSources.Sample)).ToArray();
        var query = new RerankQuery { Features = [SynthGeoFixture.Features(test, 3)] };
        var a = await new SimilarityReranker(fixture.Model).RerankAsync(query, pool, Ct);
        var b = await new SimilarityReranker(loaded).RerankAsync(query, pool, Ct);
        Assert.Equal(a.Ranked.Select(s => s.Score), b.Ranked.Select(s => s.Score));

        string modelPath = TestData.TempPath("model.gtm"), modelFolder = TestData.TempPath("model");
        using (var m = new GeoTokenModel(TestData.Micro()))
        {
            GeoTokenModelFile.Save(m, modelPath);
            GeoTokenModelFile.Save(m, modelFolder);
        }

        var e = Assert.Throws<InvalidDataException>(() => SimilarityModelFile.Load(modelPath));
        Assert.Contains("not a similarity model", e.Message);
        e = Assert.Throws<InvalidDataException>(() => SimilarityModelFile.Load(modelFolder));
        Assert.Contains("is a folder", e.Message);
    }

    [Fact]
    public async Task Concurrent_reranks_give_the_sequential_results()
    {
        var reranker = new SimilarityReranker(fixture.Model);
        var test = fixture.Data.Test;
        var pool = Enumerable.Range(0, 20).Select(i => GeoCandidate.At(fixture.Data.Train.GetLocation(i * 131), CandidateSources.Sample)).ToArray();
        var queries = Enumerable.Range(0, 24).Select(r => new RerankQuery { Features = [SynthGeoFixture.Features(test, r)] }).ToArray();
        var sequential = new List<double[]>();
        foreach (var q in queries) sequential.Add((await reranker.RerankAsync(q, pool, Ct)).Ranked.Select(s => s.Score).ToArray());
        var parallel = await Task.WhenAll(queries.Select(q => Task.Run(() => reranker.RerankAsync(q, pool, Ct), Ct)));
        for (int i = 0; i < queries.Length; i++) Assert.Equal(sequential[i], parallel[i].Ranked.Select(s => s.Score).ToArray());
        await Assert.ThrowsAsync<RerankerException>(() => reranker.RerankAsync(new RerankQuery { Features = [new float[3]] }, pool, Ct));
    }

    [Fact]
    public void Training_is_reproducible_from_its_seed_and_cancellable()
    {
        var options = Training with { Epochs = 1, BatchSize = 500 };
        using var a = new SimilarityModel(Options, seed: 9);
        using var b = new SimilarityModel(Options, seed: 9);
        random.manual_seed(1);
        SimilarityTrainer.Train(a, fixture.Data.Train, options, cancellationToken: Ct);
        random.manual_seed(2); // the global generator does not matter
        SimilarityTrainer.Train(b, fixture.Data.Train, options, cancellationToken: Ct);
        foreach (var ((name, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
        {
            Assert.True(pa.equal(pb).all().item<bool>(), $"{name} differs");
        }

        using var c = new SimilarityModel(Options, seed: 10);
        Assert.False(a.named_parameters().First().parameter.equal(c.named_parameters().First().parameter).all().item<bool>());
        using var cts = new CancellationTokenSource();
        int reports = 0;
        var cancelAfterFirst = new SyncProgress<SimilarityTrainingProgress>(_ =>
        {
            if (++reports == 1) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => SimilarityTrainer.Train(c, fixture.Data.Train, options with { ProgressEverySteps = 1 }, cancelAfterFirst, cts.Token));
        Assert.Equal(1, reports);
        Assert.Throws<ArgumentException>(() => SimilarityTrainer.Train(c, fixture.Data.Train, options with { BatchSize = 1 }, cancellationToken: Ct));
        using var wrongDim = new SimilarityModel(Options with { FeatureDimension = 32 });
        Assert.Throws<ArgumentException>(() => SimilarityTrainer.Train(wrongDim, fixture.Data.Train, options, cancellationToken: Ct));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

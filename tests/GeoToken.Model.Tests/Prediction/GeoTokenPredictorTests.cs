using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model.Tests.Reranking;
using GeoToken.Model;
using GeoToken.Prediction;
using GeoToken.Reranking;
using GeoToken.Tokens;
using GeoToken.Uncertainty;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Prediction;

/// <summary>The predictor end to end on a SynthGeo gallery with a small (untrained) model: shapes, determinism, errors, concurrency, lifetime.</summary>
public sealed class GeoTokenPredictorTests(SynthGeoFixture data) : IClassFixture<SynthGeoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly GeoTokenModelOptions Options = TestData.Micro() with { ModalityCount = 1, FeatureDimension = 64, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 } };

    private string SaveModel(GeoTokenModelOptions? options = null)
    {
        random.manual_seed(3);
        using var model = new GeoTokenModel(options ?? Options);
        string path = TestData.TempPath("p.gtm");
        GeoTokenModelFile.Save(model, path);
        return path;
    }

    private GeoTokenPredictor Open(Func<GeoTokenPredictorOptions, GeoTokenPredictorOptions>? configure = null)
    {
        var options = new GeoTokenPredictorOptions
        {
            ModelPath = SaveModel(),
            Runtimes = [TorchGeoTokenRuntime.Cpu],
            GalleryDirectory = Path.GetDirectoryName(data.Train.MetaPath)!,
            Pool = new CandidatePoolOptions { Samples = 8 },
        };
        return GeoTokenPredictor.Open(configure?.Invoke(options) ?? options, Ct);
    }

    private GeoQuery Query(long row) => GeoQuery.FromImageFeatures(SynthGeoFixture.Features(data.Test, row), $"test {row}");

    [Fact]
    public async Task Predictions_are_ranked_named_and_carry_uncertainty_and_neighbors()
    {
        using var predictor = Open();
        var queries = Enumerable.Range(0, 6).Select(r => Query(r)).ToArray();
        var predictions = await predictor.PredictAsync(queries, Ct);
        Assert.Equal(6, predictions.Count);
        for (int i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            Assert.Equal($"test {i}", p.Id);
            Assert.Equal("consensus", p.DecidedBy);
            Assert.InRange(p.Locations.Count, 1, 9); // greedy + 8 samples, merged by cell
            Assert.Equal(Enumerable.Range(1, p.Locations.Count), p.Locations.Select(l => l.Rank));
            Assert.True(p.Locations.Zip(p.Locations.Skip(1)).All(x => x.First.Score >= x.Second.Score));
            var best = p.Best;
            Assert.NotNull(best.CellToken);
            var cell = S2CellId.FromToken(best.CellToken!);
            Assert.Equal(20, cell.Level);
            Assert.True(Geodesy.HaversineKm(cell.ToLatLng(), best.Position) < 0.1);
            Assert.True(double.IsFinite(best.LogProbability) && best.LogProbability <= 0);
            Assert.NotNull(best.Place);
            Assert.True(best.Place!.DistanceKm >= 0 && best.Place.Name.Length > 0 && best.Place.CountryCode.Length == 2);
            Assert.True(p.UncertaintyKm >= 0 && double.IsFinite(p.UncertaintyKm));
            Assert.False(p.UncertaintyCalibrated);
            Assert.Equal(5, p.Neighbors.Count);
            Assert.True(p.Neighbors.Zip(p.Neighbors.Skip(1)).All(x => x.First.Similarity >= x.Second.Similarity));
            Assert.All(p.Neighbors, n => Assert.Equal(data.Train.GetLocation(n.Row), n.Position));
        }

        // Sampling is seeded from the query, not from torch's global generator or the other queries: the same query
        // at the same place of a batch of the same size, among other queries, gets the same answer bit for bit (each
        // row's arithmetic depends only on the shapes). A batch of another size rounds differently and may move a draw
        // that lies within rounding of an interval boundary, so that is compared where the draws can be replayed
        // (GeoTokenSearchTests.Batched_results_equal_per_image_results).
        random.manual_seed(12345);
        var others = new[] { Query(10), Query(11), Query(12), queries[3], Query(13), Query(14) };
        var again = (await predictor.PredictAsync(others, Ct))[3];
        Assert.Equal(predictions[3].Locations.Select(l => (l.Position, l.Count, l.LogProbability)), again.Locations.Select(l => (l.Position, l.Count, l.LogProbability)));
    }

    [Fact]
    public async Task Calibration_scales_the_radius_and_rerankers_plug_in()
    {
        var calibration = new RadiusCalibration { NominalMass = 0.9, Scale = 3, FloorKm = 1, RawCoverage = 0.5, CalibratedCoverage = 0.9, Count = 100 };
        using var raw = Open();
        using var calibrated = Open(o => o with { Calibration = calibration, Reranker = new LogProbReranker(), NamePlaces = false });
        var a = await raw.PredictAsync(Query(1), Ct);
        var b = await calibrated.PredictAsync(Query(1), Ct);
        Assert.True(b.UncertaintyCalibrated);
        Assert.Equal("logprob", b.DecidedBy);
        Assert.Null(b.Best.Place);
        var rawBest = (await new LogProbReranker().RerankAsync(new RerankQuery(), a.Locations.Select(l => new GeoCandidate { Position = l.Position, LogProbability = l.LogProbability, Count = l.Count }).ToArray(), Ct)).Best;
        Assert.Equal(rawBest.Candidate.Position, b.Best.Position);
        Assert.Throws<ArgumentException>(() => Open(o => o with { Calibration = calibration, UncertaintyMass = 0.5 }));
    }

    [Fact]
    public async Task Bad_queries_and_mismatched_files_get_errors_that_name_them()
    {
        using var predictor = Open();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => predictor.PredictAsync(GeoQuery.FromImageFeatures(new float[10], "short"), Ct));
        Assert.Contains("query 0 (short)", e.Message);
        Assert.Contains("10 values; the model reads 64", e.Message);
        var nan = SynthGeoFixture.Features(data.Test, 0);
        nan[7] = float.NaN;
        e = await Assert.ThrowsAsync<ArgumentException>(() => predictor.PredictAsync(GeoQuery.FromImageFeatures(nan, "nan"), Ct));
        Assert.Contains("non-finite value (NaN) at index 7", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => predictor.PredictAsync(new GeoQuery { Features = [nan, nan] }, Ct));
        Assert.Contains("has 2 feature vector(s); the model reads 1", e.Message);

        var wrongDim = new GeoTokenPredictorOptions { ModelPath = SaveModel(Options with { FeatureDimension = 32 }), Runtimes = [TorchGeoTokenRuntime.Cpu], GalleryDirectory = Path.GetDirectoryName(data.Train.MetaPath)! };
        Assert.Contains("dimension 64; the model", Assert.Throws<ArgumentException>(() => GeoTokenPredictor.Open(wrongDim, Ct)).Message);
        var missing = wrongDim with { ModelPath = Path.Combine(Path.GetTempPath(), "nope", "missing.gtm") };
        Assert.ThrowsAny<IOException>(() => GeoTokenPredictor.Open(missing, Ct));
    }

    [Fact]
    public async Task Concurrent_calls_give_the_sequential_answers_and_do_not_leak_tensors()
    {
        using var predictor = Open();
        var queries = Enumerable.Range(0, 12).Select(r => Query(r)).ToArray();
        var sequential = new List<GeoPrediction>();
        foreach (var q in queries) sequential.Add(await predictor.PredictAsync(q, Ct));
        var parallel = await Task.WhenAll(queries.Select(q => Task.Run(() => predictor.PredictAsync(q, Ct), Ct)));
        for (int i = 0; i < queries.Length; i++) Assert.Equal(sequential[i].Best.Position, parallel[i].Best.Position);

        // Uncontended calls run on this thread: the live tensor count must not grow.
        var stats = DisposeScopeManager.Statistics;
        PredictHere(predictor, queries[0]);
        long before = stats.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) PredictHere(predictor, queries[i % queries.Length]);
        Assert.Equal(before, stats.ThreadTotalLiveCount);

        predictor.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => predictor.PredictAsync(queries[0], Ct));
    }

    /// <summary>One call completed on the calling thread (TorchSharp's live-tensor statistics are per thread).</summary>
    private static void PredictHere(GeoTokenPredictor predictor, GeoQuery query)
    {
        var task = predictor.PredictAsync(query, Ct);
        Assert.True(task.IsCompleted, "an uncontended call with a synchronous reranker completes synchronously");
        _ = task.Result;
    }
}

using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Model.Tests.Training;
using GeoToken.Model.Training;
using GeoToken.Reranking;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Training;

public class SimilarityTrainerQueueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SimilarityModelOptions EqualEarthTiny(int features) =>
        SimilarityModelOptions.Tiny with { FeatureDimension = features, LocationInput = SimilarityLocationInput.EqualEarth };

    [Fact]
    public void The_queue_adds_its_locations_as_columns_and_the_loss_is_image_to_location_cross_entropy()
    {
        using var model = new SimilarityModel(EqualEarthTiny(16), seed: 2);
        var queue = new GpsQueue(4096, seed: 9);
        const int b = 12;
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var x = randn([b, 16], generator: g);
        var positions = Enumerable.Range(0, b).Select(i => new LatLng(-80 + 13.3 * i, -170 + 29 * i)).ToArray();
        var logits = SimilarityTrainer.ContrastiveLogits(model, x, model.LocationInputs(positions), model.LocationInputs(queue.Items));
        Assert.Equal([(long)b, 4096 + b], logits.shape);

        // Column j < B is batch location j, column B + q is queue entry q, scaled by the logit scale.
        using (no_grad())
        {
            var img = model.EmbedImages(x);
            var expected = img.matmul(model.EmbedPositions(queue.Items).t()) * model.LogitScale();
            Assert.True((logits.narrow(1, b, 4096) - expected).abs().max().item<float>() < 1e-4f);
        }

        // The loss is −mean log softmax of each row's own column, over all B + Q columns.
        var loss = SimilarityTrainer.ContrastiveLoss(logits).item<float>();
        var rows = logits.log_softmax(1).data<float>().ToArray();
        double manual = -Enumerable.Range(0, b).Average(i => rows[i * (4096 + b) + i]);
        Assert.Equal(manual, loss, 4);

        // Without a queue: the symmetric loss over a square matrix.
        var square = SimilarityTrainer.ContrastiveLogits(model, x, model.LocationInputs(positions));
        Assert.Equal([(long)b, b], square.shape);
        var byRow = square.log_softmax(1).data<float>().ToArray();
        var byColumn = square.log_softmax(0).data<float>().ToArray();
        double symmetric = -Enumerable.Range(0, b).Average(i => (byRow[i * b + i] + byColumn[i * b + i]) / 2);
        Assert.Equal(symmetric, SimilarityTrainer.ContrastiveLoss(square).item<float>(), 4);
    }

    [Fact]
    public void The_queue_starts_full_of_valid_positions_and_keeps_the_latest_ones()
    {
        var queue = new GpsQueue(10, seed: 1);
        Assert.Equal(10, queue.Count);
        var start = queue.Items.ToArray();
        Assert.True(start.Distinct().Count() == 10);
        Assert.Contains(start, p => p.Latitude < 0);
        Assert.Contains(start, p => p.Latitude > 0);
        var first = Enumerable.Range(0, 4).Select(i => new LatLng(i, i)).ToArray();
        var second = Enumerable.Range(0, 8).Select(i => new LatLng(50, i)).ToArray();
        queue.Enqueue(first);
        Assert.Equal(first, queue.Items[..4].ToArray());
        Assert.Equal(start[4..], queue.Items[4..].ToArray());
        queue.Enqueue(second);
        // 12 positions into 10 places: the two oldest (first[0], first[1]) are gone.
        var held = queue.Items.ToArray().ToHashSet();
        Assert.Equal(10, held.Count);
        Assert.True(held.SetEquals(first[2..].Concat(second)));
    }

    [Fact]
    public void Training_with_a_4096_location_queue_uses_it_and_lowers_the_loss()
    {
        string dir = TinyDatasets.Write(Path.Combine(Path.GetDirectoryName(TestData.TempPath("q"))!, "tiny"), rows: 240, dim: 16, seed: 4, modalities: 1);
        using var dataset = GeoDataset.Open(dir);
        using var model = new SimilarityModel(EqualEarthTiny(16), seed: 6);
        var options = new SimilarityTrainingOptions { Epochs = 4, BatchSize = 40, LearningRate = 2e-3, GpsQueueSize = 4096, LocationNoiseKm = 1, Seed = 2 };
        double before = FixedEvaluationLoss(model, dataset);
        var result = SimilarityTrainer.Train(model, dataset, options, cancellationToken: Ct);
        double after = FixedEvaluationLoss(model, dataset);
        Assert.Equal(4096 + 40, result.LocationsPerStep);
        Assert.Equal(4 * 6, result.Steps);
        Assert.All(result.EpochLosses, l => Assert.True(double.IsFinite(l)));

        // The epoch losses are not comparable with each other: the queue fills with past training locations, which in
        // this five-city dataset are mostly same-city (near-positive) negatives. A fixed evaluation is: one image per
        // city against its own location and 4,096 positions spread over the globe. Chance is ln(4097) ≈ 8.3.
        Assert.True(after < before - 3, $"fixed-evaluation loss {before:F3} → {after:F3}");

        using var plain = new SimilarityModel(EqualEarthTiny(16), seed: 6);
        var without = SimilarityTrainer.Train(plain, dataset, options with { Epochs = 1, GpsQueueSize = 0 }, cancellationToken: Ct);
        Assert.Equal(40, without.LocationsPerStep);
        Assert.Throws<ArgumentException>(() => (options with { GpsQueueSize = -1 }).Validate());
    }

    private static double FixedEvaluationLoss(SimilarityModel model, GeoDataset dataset)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int cities = 5; // rows 0–4 are one per city (TinyDatasets cycles through the cities)
        var x = new float[cities * dataset.Dimension];
        for (int r = 0; r < cities; r++) dataset.Image.ReadRow(r, x.AsSpan(r * dataset.Dimension, dataset.Dimension));
        var own = Enumerable.Range(0, cities).Select(r => dataset.GetLocation(r)).ToArray();
        var spread = new GpsQueue(4096, seed: 77);
        var losses = new double[cities];
        for (int r = 0; r < cities; r++)
        {
            var logits = SimilarityTrainer.ContrastiveLogits(model, tensor(x.AsSpan(r * dataset.Dimension, dataset.Dimension).ToArray(), [1, dataset.Dimension]),
                model.LocationInputs(own.AsSpan(r, 1)), model.LocationInputs(spread.Items));
            losses[r] = SimilarityTrainer.ContrastiveLoss(logits).item<float>();
        }

        return losses.Average();
    }
}

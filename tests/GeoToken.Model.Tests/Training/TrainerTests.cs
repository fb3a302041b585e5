using GeoToken.Model.Training;
using GeoToken.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Training;

public class TrainerTests
{
    private static readonly GeoTokenModelOptions Options = TestData.Micro();

    private static GeoTokenTrainerOptions TrainerOptions(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        LearningRate = 2e-3,
        WarmupSteps = 3,
        MaxGradientNorm = 1.0,
        Seed = 42,
        ProgressEverySteps = 2,
    };

    private static GeoTokenModel NewModel(long seed = 7)
    {
        random.manual_seed(seed);
        return new GeoTokenModel(Options);
    }

    private static Dictionary<string, float[]> Weights(GeoTokenModel model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());

    private static void AssertIdentical(Dictionary<string, float[]> a, Dictionary<string, float[]> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, w) in a) Assert.True(w.AsSpan().SequenceEqual(b[name]), $"{name} differs");
    }

    [Fact]
    public void Learns_a_learnable_synthetic_task()
    {
        // The paper layout shows each neighbor token separately, so copying is learnt in a few hundred steps.
        var options = TestData.Micro(layout: ContextLayout.Paper, dropout: 0);
        random.manual_seed(7);
        using var model = new GeoTokenModel(options);
        var source = new SyntheticBatchSource(options, 256, seed: 3, learnable: true);
        using var trainer = new GeoTokenTrainer(model, TrainerOptions(10) with { LearningRate = 3e-3, LearningRateDecay = 1.0, MaxGradientNorm = null });
        var result = trainer.Train(source, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(10, result.EpochsCompleted);
        Assert.Equal(10 * 16, result.GlobalStep);
        // Guessing costs Σ w·ln V / Σ w (V = 6 for the face, 16 after); copying the first neighbor's tokens is learnable.
        var w = GeoTokenLoss.PositionWeights(6);
        double chance = (w[0] * Math.Log(6) + w.Skip(1).Sum() * Math.Log(16)) / w.Sum();
        string curve = string.Join(", ", result.EpochMeanLosses.Select(l => l.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(result.EpochMeanLosses[0] > 0.9 * chance, $"first epoch vs chance {chance:F3}: {curve}");
        Assert.True(result.EpochMeanLosses[^1] < 0.7 * chance, $"last epoch vs chance {chance:F3}: {curve}");
    }

    [Fact]
    public void The_neighbor_copy_head_learns_copying_in_the_compact_layout_faster_than_without_it()
    {
        // The compact layout pools each neighbor's tokens into one position, which makes copying them hard to
        // learn; the copy head points at the neighbor and copies its next token directly.
        double FinalLoss(bool copy)
        {
            var options = TestData.Micro(dropout: 0, copy: copy);
            random.manual_seed(7);
            using var model = new GeoTokenModel(options);
            var source = new SyntheticBatchSource(options, 256, seed: 3, learnable: true);
            using var trainer = new GeoTokenTrainer(model, TrainerOptions(10) with { LearningRate = 3e-3, LearningRateDecay = 1.0, MaxGradientNorm = null });
            return trainer.Train(source, cancellationToken: TestContext.Current.CancellationToken).EpochMeanLosses[^1];
        }

        var w = GeoTokenLoss.PositionWeights(6);
        double chance = (w[0] * Math.Log(6) + w.Skip(1).Sum() * Math.Log(16)) / w.Sum();
        double with = FinalLoss(copy: true), without = FinalLoss(copy: false);
        Assert.True(with < 0.3 * chance, $"with the copy head: {with:F3} (chance {chance:F3})");
        Assert.True(with < 0.5 * without, $"with the copy head {with:F3}, without {without:F3}");
    }

    [Fact]
    public void Same_seed_gives_identical_weights()
    {
        var source = new SyntheticBatchSource(Options, 40, seed: 1, learnable: false);
        Dictionary<string, float[]> Run()
        {
            using var model = NewModel();
            using var trainer = new GeoTokenTrainer(model, TrainerOptions(2));
            trainer.Train(source, cancellationToken: TestContext.Current.CancellationToken);
            return Weights(model);
        }

        AssertIdentical(Run(), Run());
    }

    [Fact]
    public void Two_epochs_straight_equal_one_epoch_checkpoint_resume_one_epoch()
    {
        var source = new SyntheticBatchSource(Options, 40, seed: 1, learnable: false);
        Dictionary<string, float[]> straight;
        using (var model = NewModel())
        using (var trainer = new GeoTokenTrainer(model, TrainerOptions(2)))
        {
            trainer.Train(source, cancellationToken: TestContext.Current.CancellationToken);
            straight = Weights(model);
        }

        string path = TestData.TempPath("run.ckpt");
        using (var model = NewModel())
        using (var trainer = new GeoTokenTrainer(model, TrainerOptions(1)))
        {
            trainer.Train(source, cancellationToken: TestContext.Current.CancellationToken);
            trainer.SaveCheckpoint(path);
        }

        // Disturb the global generator as a new process would have it.
        random.manual_seed(999);
        _ = rand(10);
        using var resumed = GeoTokenTrainer.Resume(path, TrainerOptions(2));
        using var resumedModel = resumed.Model;
        Assert.Equal((1, 0, 3L), (resumed.Epoch, resumed.StepInEpoch, resumed.GlobalStep));
        resumed.Train(source, cancellationToken: TestContext.Current.CancellationToken);
        AssertIdentical(straight, Weights(resumedModel));
    }

    [Fact]
    public void Cancelled_mid_epoch_run_checkpoints_and_resumes_exactly()
    {
        var source = new SyntheticBatchSource(Options, 64, seed: 2, learnable: false);
        string path = TestData.TempPath("cancel.ckpt");
        Dictionary<string, float[]> straight;
        using (var model = NewModel())
        using (var trainer = new GeoTokenTrainer(model, TrainerOptions(2)))
        {
            trainer.Train(source, cancellationToken: TestContext.Current.CancellationToken);
            straight = Weights(model);
        }

        using (var model = NewModel())
        using (var trainer = new GeoTokenTrainer(model, TrainerOptions(2) with { CheckpointPath = path }))
        {
            using var cts = new CancellationTokenSource();
            // Cancel after the 6th step: epoch 1 (4 steps each), step 2.
            var progress = new SynchronousProgress<TrainingProgress>(p => { if (p.GlobalStep == 6) cts.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => trainer.Train(source, progress, cts.Token));
            Assert.Equal((1, 2, 6L), (trainer.Epoch, trainer.StepInEpoch, trainer.GlobalStep));
        }

        var e = Assert.Throws<InvalidDataException>(() => GeoTokenTrainer.Resume(path, TrainerOptions(2) with { BatchSize = 8 }));
        Assert.Contains("middle of epoch 1 (step 2)", e.Message);

        using var resumed = GeoTokenTrainer.Resume(path);
        using var resumedModel = resumed.Model;
        Assert.Equal((1, 2, 6L), (resumed.Epoch, resumed.StepInEpoch, resumed.GlobalStep));
        var result = resumed.Train(source, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(8, result.GlobalStep);
        AssertIdentical(straight, Weights(resumedModel));
    }

    [Fact]
    public void Checkpoints_are_written_every_n_steps_and_at_epoch_ends()
    {
        using var model = NewModel();
        var source = new SyntheticBatchSource(Options, 40, seed: 1, learnable: false);
        string path = TestData.TempPath("every.ckpt");
        var seen = new List<(int Epoch, int Step)>();
        void OnProgress(TrainingProgress p)
        {
            // Reported after step 2 of each epoch, before that step's own checkpoint: the file holds step 1.
            if (p.EpochCompleted) return;
            using var r = GeoTokenTrainer.Resume(path);
            using var m = r.Model;
            seen.Add((r.Epoch, r.StepInEpoch));
        }

        using var trainer = new GeoTokenTrainer(model, TrainerOptions(2) with { CheckpointPath = path, CheckpointEverySteps = 1 });
        trainer.Train(source, new SynchronousProgress<TrainingProgress>(OnProgress), TestContext.Current.CancellationToken);
        Assert.Equal([(0, 1), (1, 1)], seen);
        using var done = GeoTokenTrainer.Resume(path);
        using var doneModel = done.Model;
        Assert.Equal((2, 0, 6L), (done.Epoch, done.StepInEpoch, done.GlobalStep));
    }

    [Fact]
    public void Reports_progress_with_throughput_and_epoch_ends()
    {
        using var model = NewModel();
        var source = new SyntheticBatchSource(Options, 40, seed: 1, learnable: false);
        var reports = new List<TrainingProgress>();
        using var trainer = new GeoTokenTrainer(model, TrainerOptions(2));
        trainer.Train(source, new SynchronousProgress<TrainingProgress>(reports.Add), TestContext.Current.CancellationToken);
        // 3 steps per epoch (16 + 16 + 8): a report after step 2, one at the epoch end.
        Assert.Equal([(0, 2, false), (0, 3, true), (1, 2, false), (1, 3, true)], reports.Select(r => (r.Epoch, r.StepInEpoch, r.EpochCompleted)));
        Assert.All(reports, r => Assert.True(r.SamplesPerSecond > 0 && double.IsFinite(r.Loss) && r.StepsPerEpoch == 3));
        Assert.Equal(2e-3 * 0.9, reports[^1].LearningRate, 12);
    }

    [Fact]
    public void Steps_do_not_leak_tensors()
    {
        using var model = NewModel();
        var source = new SyntheticBatchSource(Options, 16, seed: 1, learnable: false);
        using var trainer = new GeoTokenTrainer(model, TrainerOptions(1));
        void Steps(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var batch = source.ReadBatch(Enumerable.Range(0, 16).ToArray());
                trainer.TrainStep(batch);
            }
        }

        Steps(2);
        var stats = DisposeScopeManager.Statistics;
        long before = stats.ThreadTotalLiveCount;
        Steps(5);
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void Non_finite_loss_stops_training_without_touching_the_weights()
    {
        using var model = NewModel();
        using var trainer = new GeoTokenTrainer(model, TrainerOptions(1));
        var before = Weights(model);
        using var batch = TestData.Batch(Options, 4);
        batch.QueryFeatures[0, 0, 0] = tensor(float.NaN);
        var e = Assert.Throws<InvalidOperationException>(() => trainer.TrainStep(batch));
        Assert.Contains("NaN", e.Message);
        AssertIdentical(before, Weights(model));
    }

    [Fact]
    public void Learning_rate_follows_warmup_and_per_epoch_decay()
    {
        var o = new GeoTokenTrainerOptions { LearningRate = 1e-3, WarmupSteps = 4, LearningRateDecay = 0.5 };
        Assert.Equal(0.25e-3, o.LearningRateAt(0, 0), 15);
        Assert.Equal(1e-3, o.LearningRateAt(0, 3), 15);
        Assert.Equal(0.25e-3, o.LearningRateAt(2, 100), 15);
        var paper = new GeoTokenTrainerOptions();
        Assert.Equal((5e-5, 1e-6, 0.9), (paper.LearningRate, paper.WeightDecay, paper.LearningRateDecay));
    }

    [Fact]
    public void Invalid_trainer_options_are_named()
    {
        using var model = NewModel();
        var e = Assert.Throws<ArgumentException>(() => new GeoTokenTrainer(model, new GeoTokenTrainerOptions { BatchSize = 0 }));
        Assert.Contains("BatchSize is 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GeoTokenTrainer(model, new GeoTokenTrainerOptions { MaxGradientNorm = -1 }));
        Assert.Contains("MaxGradientNorm is -1", e.Message);
    }

    [Fact]
    public void Epoch_orders_are_permutations_that_differ_between_epochs_and_seeds()
    {
        var a = SplitMix64.EpochOrder(1, 0, 100);
        Assert.Equal(Enumerable.Range(0, 100), a.Order());
        Assert.NotEqual(a, SplitMix64.EpochOrder(1, 1, 100));
        Assert.NotEqual(a, SplitMix64.EpochOrder(2, 0, 100));
        Assert.Equal(a, SplitMix64.EpochOrder(1, 0, 100));
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

using GeoToken.Model.Training;

namespace GeoToken.Model.Tests.Training;

public sealed class TrainingRunTests
{
    [Fact]
    public async Task Trains_validates_writes_a_loadable_model_and_resumes()
    {
        string root = Path.GetDirectoryName(TestData.TempPath("x"))!;
        string train = TinyDatasets.Write(Path.Combine(root, "train"), 400, 16, seed: 4);
        string val = TinyDatasets.Write(Path.Combine(root, "val"), 60, 16, seed: 5);
        var options = new TrainingRunOptions
        {
            TrainDirectory = train,
            ValidationDirectory = val,
            OutputPath = Path.Combine(root, "model.gtm"),
            Model = TestData.Micro() with { FeatureDimension = 16, NeighborCount = 4 },
            Trainer = new GeoTokenTrainerOptions { Epochs = 5, BatchSize = 50, LearningRate = 2e-3, WarmupSteps = 10, MaxGradientNorm = 1.0, LearningRateDecay = 1.0, Seed = 7 },
        };
        var stages = new List<string>();
        var result = await TrainingRun.RunAsync(options, new SynchronousProgress<TrainingRunProgress>(p => stages.Add(p.Stage)), TestContext.Current.CancellationToken);
        Assert.Equal(5, result.Training.EpochsCompleted);
        Assert.Equal(5, result.Training.Validations.Count);
        Assert.Contains("neighbors", stages);
        Assert.Contains("validate", stages);
        Assert.True(result.Training.EpochMeanLosses[^1] < result.Training.EpochMeanLosses[0], "the loss falls");
        Assert.True(result.Training.Validations[^1].Metrics.Acc2500Km > 60, $"five well-separated cities are learnable: {string.Join(", ", result.Training.Validations.Select(v => $"{v.Loss:F2}/{v.Metrics.Acc2500Km:F0}%"))}; train {string.Join(", ", result.Training.EpochMeanLosses.Select(l => l.ToString("F2")))}");
        using (var model = GeoTokenModelFile.Load(result.ModelPath))
        {
            Assert.Equal(options.Model.DescribeDifferences(model.Options), []);
        }

        // Resume to a sixth epoch: the checkpoint continues after epoch 5.
        var more = await TrainingRun.RunAsync(options with { Resume = true, Trainer = options.Trainer with { Epochs = 6 } }, null, TestContext.Current.CancellationToken);
        Assert.True(more.Resumed);
        Assert.Equal(6, more.Training.EpochsCompleted);
        Assert.Single(more.Training.EpochMeanLosses);
    }

    /// <summary>The defect: resuming a checkpoint of another dataset continued silently (progress 67/64). It is refused, naming both, unless told.</summary>
    [Fact]
    public async Task The_same_seed_trains_the_same_model_and_another_seed_another()
    {
        var ct = TestContext.Current.CancellationToken;
        string root = Path.GetDirectoryName(TestData.TempPath("x"))!;
        string train = TinyDatasets.Write(Path.Combine(root, "train"), 120, 16, seed: 4);
        var options = new TrainingRunOptions
        {
            TrainDirectory = train,
            OutputPath = Path.Combine(root, "a"),
            Model = TestData.Micro() with { FeatureDimension = 16, NeighborCount = 4 },
            Trainer = new GeoTokenTrainerOptions { Epochs = 1, BatchSize = 40, LearningRate = 1e-3, Seed = 11 },
        };
        Dictionary<string, float[]> Weights(string path)
        {
            using var model = GeoTokenModelFile.Load(path);
            return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());
        }

        // torch's generator is left elsewhere between the runs: the run must seed the initialisation itself.
        await TrainingRun.RunAsync(options, null, ct);
        TorchSharp.torch.random.manual_seed(12345);
        await TrainingRun.RunAsync(options with { OutputPath = Path.Combine(root, "b") }, null, ct);
        await TrainingRun.RunAsync(options with { OutputPath = Path.Combine(root, "c"), Trainer = options.Trainer with { Seed = 12 } }, null, ct);
        var (a, b, c) = (Weights(Path.Combine(root, "a")), Weights(Path.Combine(root, "b")), Weights(Path.Combine(root, "c")));
        // The same operations on the same machine: bit-identical (one process, one set of kernels).
        Assert.All(a, kv => Assert.True(kv.Value.AsSpan().SequenceEqual(b[kv.Key]), $"{kv.Key} differs between two runs with seed 11"));
        Assert.Contains(a, kv => !kv.Value.AsSpan().SequenceEqual(c[kv.Key]));
    }

    [Fact]
    public async Task Resume_refuses_a_checkpoint_of_other_data_unless_told()
    {
        var ct = TestContext.Current.CancellationToken;
        string root = Path.GetDirectoryName(TestData.TempPath("x"))!;
        string a = TinyDatasets.Write(Path.Combine(root, "a"), 200, 16, seed: 4);
        string b = TinyDatasets.Write(Path.Combine(root, "b"), 200, 16, seed: 9);
        var options = new TrainingRunOptions
        {
            TrainDirectory = a,
            OutputPath = Path.Combine(root, "m.gtm"),
            Model = TestData.Micro() with { FeatureDimension = 16, NeighborCount = 4 },
            Trainer = new GeoTokenTrainerOptions { Epochs = 1, BatchSize = 50, Seed = 1 },
        };
        string checkpoint = options.OutputPath + ".ckpt";
        await TrainingRun.RunAsync(options, null, ct);
        var stored = GeoTokenTrainer.ReadDataIdentity(checkpoint);
        Assert.NotNull(stored);
        Assert.Equal(Path.GetFullPath(a), stored.Dataset);
        Assert.Equal(200, stored.Rows);
        Assert.Equal(4, stored.NeighborCount);

        var other = await Assert.ThrowsAsync<InvalidOperationException>(() => TrainingRun.RunAsync(options with { TrainDirectory = b, Resume = true, Trainer = options.Trainer with { Epochs = 2 } }, null, ct));
        Assert.Contains(Path.GetFullPath(a), other.Message);
        Assert.Contains(Path.GetFullPath(b), other.Message);
        Assert.Contains("--resume-anyway", other.Message);

        var same = await TrainingRun.RunAsync(options with { Resume = true, Trainer = options.Trainer with { Epochs = 2 } }, null, ct);
        Assert.True(same.Resumed);
        Assert.Equal(2, same.Training.EpochsCompleted);

        var anyway = await TrainingRun.RunAsync(options with { TrainDirectory = b, Resume = true, ResumeOnOtherData = true, Trainer = options.Trainer with { Epochs = 3 } }, null, ct);
        Assert.True(anyway.Resumed);
        Assert.Equal(Path.GetFullPath(b), GeoTokenTrainer.ReadDataIdentity(checkpoint)!.Dataset); // from then on it records the new data

        // A checkpoint that records nothing (as older versions wrote them) cannot be checked: refused too.
        using (var model = new GeoTokenModel(options.Model!))
        using (var trainer = new GeoTokenTrainer(model, options.Trainer))
        {
            trainer.SaveCheckpoint(checkpoint);
        }

        Assert.Null(GeoTokenTrainer.ReadDataIdentity(checkpoint));
        var unrecorded = await Assert.ThrowsAsync<InvalidOperationException>(() => TrainingRun.RunAsync(options with { Resume = true, Trainer = options.Trainer with { Epochs = 2 } }, null, ct));
        Assert.Contains("does not record what it was trained on", unrecorded.Message);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

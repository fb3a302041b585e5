using GeoToken.Decoding;
using GeoToken.Model.Recipes;
using GeoToken.Model.Training;
using GeoToken.Reranking;

namespace GeoToken.Model.Tests.Recipes;

public class GeoTokenRecipeTests
{
    [Fact]
    public void The_default_recipe_is_every_options_types_defaults()
    {
        var r = GeoTokenRecipe.Default;
        Assert.Null(r.Preset);
        Assert.Equal(new GeoTokenTrainerOptions(), r.Trainer());
        Assert.Equal(new BeamSearchOptions(), r.BeamSearch);
        Assert.Equal(new CandidatePoolOptions(), r.Pool);
        Assert.Equal(new SamplingOptions(), r.Sampling);
        Assert.Equal(new RewardTrainingOptions(), r.RewardTraining);
        Assert.Equal(RewardSelection.MostLikelyWithin, r.RewardSelection);
        Assert.Same(r, GeoTokenRecipe.Parse("DEFAULT"));
    }

    [Fact]
    public void The_paper_recipe_sets_the_reference_choices()
    {
        var r = GeoTokenRecipe.Parse("paper");
        Assert.Same(GeoTokenRecipe.Paper, r);
        Assert.Equal("paper", r.Preset);
        var t = r.Trainer(microBatch: 128);
        t.Validate();
        Assert.Equal((128, 16, 2048), (t.BatchSize, t.GradientAccumulationSteps, t.EffectiveBatchSize));
        Assert.Equal((50, 5e-5, 1e-6, 0.9, 0, (double?)null, TrainingPrecision.BFloat16), (t.Epochs, t.LearningRate, t.WeightDecay, t.LearningRateDecay, t.WarmupSteps, t.MaxGradientNorm, t.Precision));
        Assert.Null(r.BeamSearch.CommitLevel);
        Assert.Equal(5, r.BeamSearch.Width);
        Assert.Equal(SampleScore.Tempered, r.Pool.ScoreWith);
        Assert.Equal((true, 30, 0.7), (r.Pool.Greedy, r.Pool.Samples, r.Pool.Temperature));
        Assert.Equal(SampleScore.Tempered, r.Sampling.ScoreWith);
        Assert.Same(RewardTrainingOptions.Reference, r.RewardTraining);
        Assert.Equal(RewardSelection.Reference, r.RewardSelection);
        Assert.Contains("does not divide", Assert.Throws<ArgumentException>(() => r.Trainer(microBatch: 300)).Message);
        Assert.Throws<ArgumentException>(() => GeoTokenRecipe.Parse("fast"));
    }
}

using GeoToken.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Training;

public class LossAndOptimizerTests
{
    [Fact]
    public void Position_weights_run_linearly_from_two_to_one()
    {
        Assert.Equal([2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0], GeoTokenLoss.PositionWeights(11).Select(w => Math.Round(w, 12)));
        Assert.Equal([2.0], GeoTokenLoss.PositionWeights(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GeoTokenLoss.PositionWeights(0));
    }

    [Fact]
    public void Loss_is_the_weighted_mean_of_per_position_cross_entropies()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var logits = new[] { randn([4, 6], generator: g), randn([4, 16], generator: g), randn([4, 16], generator: g) };
        var targets = tensor(new long[] { 0, 5, 1, 5, 2, 3, 3, 0, 4, 1, 9, 15 }, [4, 3]);
        double[] w = [2.0, 1.5, 1.0];
        double loss = GeoTokenLoss.Compute(logits, targets, w).item<float>();

        // Reference: −log softmax of the target, averaged over the batch, by hand in double precision.
        double expected = 0;
        for (int p = 0; p < 3; p++)
        {
            var l = logits[p].to_type(ScalarType.Float64).data<double>().ToArray();
            int v = (int)logits[p].shape[1];
            double ce = 0;
            for (int i = 0; i < 4; i++)
            {
                var row = l.AsSpan(i * v, v);
                double max = row.ToArray().Max();
                double lse = max + Math.Log(row.ToArray().Sum(x => Math.Exp(x - max)));
                ce += lse - row[(int)targets[i, p].item<long>()];
            }

            expected += w[p] * ce / 4;
        }

        // The float32 loss (about 2) is a few roundings of 2.4e-7 each from the double reference.
        Assert.Equal(expected / w.Sum(), loss, 1e-5);
    }

    [Fact]
    public void Uniform_logits_cost_the_weighted_log_vocabulary()
    {
        using var scope = NewDisposeScope();
        var logits = new[] { zeros(3, 6), zeros(3, 16) };
        var targets = tensor(new long[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        double loss = GeoTokenLoss.Compute(logits, targets, [2.0, 1.0]).item<float>();
        Assert.Equal((2 * Math.Log(6) + Math.Log(16)) / 3, loss, 1e-5); // float32, as above
    }

    [Fact]
    public void AdamW_skips_parameters_without_gradients_and_checks_arguments()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(ones(3));
        using var opt = new AdamWOptimizer([("p", p)]) { LearningRate = 0.1 };
        opt.Step();
        Assert.Equal(3f, p.sum().item<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamWOptimizer([("p", p)], beta1: 1.0));
        Assert.Throws<ArgumentException>(() => new AdamWOptimizer([("p", p), ("p", p)]));
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using GeoToken.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Training;

/// <summary>
/// <see cref="AdamWOptimizer"/> against PyTorch's <c>torch.optim.AdamW</c> with <c>StepLR(1, γ)</c>
/// (benchmarks/peers/adamw_torch.py, /usr/bin/python3): the optimizer and the per-epoch decay that
/// <see cref="RewardTrainer"/> and the other trainers use, step by step.
/// </summary>
public class AdamWPeerTests
{
    [Fact]
    public void Steps_with_weight_decay_skipped_gradients_and_an_epoch_decay_match_pytorch()
    {
        const double lr = 0.01, weightDecay = 0.05, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, gamma = 0.5;
        const int epochs = 3, stepsPerEpoch = 2;
        using var scope = NewDisposeScope();
        using var g = new Generator(17);
        var initial = new (string Name, Tensor Value)[] { ("w", randn([3, 4], generator: g)), ("b", randn([4], generator: g)) };
        var parameters = initial.Select(p => (p.Name, Param: new Parameter(p.Value.clone()))).ToArray();

        // Gradients per step; "b" has none at the second step of every epoch (AdamW skips it: its own step
        // count, hence bias correction, then lags "w"'s).
        var gradients = new List<Dictionary<string, Tensor?>>();
        for (int s = 0; s < epochs * stepsPerEpoch; s++)
        {
            gradients.Add(new Dictionary<string, Tensor?>
            {
                ["w"] = randn([3, 4], generator: g),
                ["b"] = s % stepsPerEpoch == 1 ? null : randn([4], generator: g),
            });
        }

        var case_ = new JsonObject
        {
            ["lr"] = lr, ["weight_decay"] = weightDecay, ["beta1"] = beta1, ["beta2"] = beta2, ["eps"] = eps, ["gamma"] = gamma,
            ["parameters"] = new JsonObject(initial.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)new JsonObject
            {
                ["shape"] = new JsonArray(p.Value.shape.Select(d => (JsonNode?)d).ToArray()),
                ["values"] = Values(p.Value),
            }))),
            ["epochs"] = new JsonArray(Enumerable.Range(0, epochs).Select(e => (JsonNode?)new JsonArray(
                gradients.Skip(e * stepsPerEpoch).Take(stepsPerEpoch).Select(step => (JsonNode?)new JsonObject(
                    step.Select(kv => KeyValuePair.Create(kv.Key, kv.Value is null ? null : (JsonNode?)Values(kv.Value))))).ToArray())).ToArray()),
        };
        string casePath = TestData.TempPath("adamw-case.json");
        string outPath = Path.Combine(Path.GetDirectoryName(casePath)!, "adamw-out.json");
        try
        {
            File.WriteAllText(casePath, case_.ToJsonString());
            PythonPeer.Run("adamw_torch.py", casePath, outPath);
            var theirs = JsonNode.Parse(File.ReadAllText(outPath))!["steps"]!.AsArray();
            Assert.Equal(epochs * stepsPerEpoch, theirs.Count);

            using var optimizer = new AdamWOptimizer(parameters, weightDecay, beta1, beta2, eps) { LearningRate = lr };
            int at = 0;
            for (int e = 0; e < epochs; e++)
            {
                for (int s = 0; s < stepsPerEpoch; s++, at++)
                {
                    foreach (var (name, param) in parameters) param.grad = gradients[at][name]?.clone();
                    optimizer.Step();
                    foreach (var (name, param) in parameters)
                    {
                        var ours = param.detach().reshape(-1).data<float>().ToArray();
                        var peer = theirs[at]![name]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
                        Assert.Equal(peer.Length, ours.Length);
                        // The same float32 operations in the same order; a step moves a parameter of order 1 by at most
                        // about lr, and a libtorch kernel may round a sqrt or a division differently by an ulp (6e-8):
                        // six steps stay well inside 1e-6. A wrong bias correction, decay or learning rate is off by ≥ 1e-4.
                        for (int i = 0; i < ours.Length; i++)
                        {
                            Assert.True(Math.Abs(ours[i] - peer[i]) <= 1e-6, $"step {at + 1} (epoch {e}), {name}[{i}]: ours {ours[i]:R}, PyTorch {peer[i]:R}");
                        }
                    }
                }

                optimizer.LearningRate *= gamma; // StepLR(step_size: 1, gamma), as RewardTrainer after every epoch
            }

            foreach (var ((name, param), (_, init)) in parameters.Zip(initial))
            {
                Assert.True((param - init).abs().max().item<float>() > 0.01, $"{name} moved");
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(casePath)!, recursive: true);
        }
    }

    private static JsonArray Values(Tensor t) => new(t.reshape(-1).data<float>().ToArray().Select(v => (JsonNode?)(double)v).ToArray());
}

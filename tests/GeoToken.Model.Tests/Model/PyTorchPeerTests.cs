using GeoToken.IO;
using GeoToken.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Model;

/// <summary>
/// Runs benchmarks/peers/geotoken_torch.py (PyTorch 1.13, /usr/bin/python3) on the same weights and batch
/// and compares logits, loss and every gradient: the peer used by the training benchmark is the same
/// model, and our forward and backward passes agree with stock PyTorch layers.
/// </summary>
public class PyTorchPeerTests(ITestOutputHelper output)
{
    public static TheoryData<NormOrder, ContextLayout, bool> Configurations => new()
    {
        { NormOrder.Post, ContextLayout.Paper, false },
        { NormOrder.Pre, ContextLayout.Compact, false },
        { NormOrder.Post, ContextLayout.Compact, true },
        { NormOrder.Pre, ContextLayout.Paper, true },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Logits_loss_and_gradients_match_pytorch(NormOrder norm, ContextLayout layout, bool copy) =>
        CrossCheck(TestData.Micro(norm, layout, dropout: 0, copy: copy));

    /// <summary>The <c>small</c> preset at full size (d 256, 4 + 4 layers, compact context, neighbor-copy head).</summary>
    [Fact]
    public void The_small_preset_matches_pytorch() => CrossCheck(GeoTokenModelOptions.Small with { Dropout = 0 });

    private void CrossCheck(GeoTokenModelOptions options)
    {
        random.manual_seed(21);
        using var model = new GeoTokenModel(options);
        using var batch = TestData.Batch(options, 4, seed: 8);
        string modelPath = TestData.TempPath("peer-model");
        string dir = Path.GetDirectoryName(modelPath)!;
        string batchPath = Path.Combine(dir, "batch.bin"), outPath = Path.Combine(dir, "torch.bin");
        GeoTokenModelFile.Save(model, modelPath);
        TensorFile.Write(batchPath, new System.Text.Json.Nodes.JsonObject { ["kind"] = "batch" },
        [
            ("query", batch.QueryFeatures), ("neighbors", batch.NeighborFeatures),
            ("neighbor_tokens", batch.NeighborTokens), ("targets", batch.TargetTokens!),
        ]);

        PythonPeer.Run("geotoken_torch.py", "crosscheck", "--model", modelPath, "--batch", batchPath, "--out", outPath);

        using var scope = NewDisposeScope();
        var theirs = TensorFile.ReadTensors(TensorFile.ReadHeader(outPath), TensorFile.ReadHeader(outPath).Tensors.Keys);
        model.eval();
        var logits = model.Forward(batch);
        var loss = GeoTokenLoss.Compute(logits, batch.TargetTokens!, GeoTokenLoss.PositionWeights(options.SequenceLength));
        loss.backward();

        double worst = 0;
        long agree = 0, positions = 0;
        for (int p = 0; p < logits.Length; p++)
        {
            float diff = (logits[p] - theirs[$"logits.{p}"]).abs().max().item<float>();
            Assert.True(diff < 1e-4, $"logits at position {p} differ by {diff}");
            worst = Math.Max(worst, diff);
            agree += logits[p].argmax(-1).eq(theirs[$"logits.{p}"].argmax(-1)).sum().item<long>();
            positions += logits[p].shape[0];
        }

        // Reported, not asserted: an argmax may flip where two logits tie within the tolerance above.
        output.WriteLine(FormattableString.Invariant(
            $"d {options.ModelDimension}, {options.EncoderLayers}+{options.DecoderLayers} layers, {options.NormOrder}-norm, {options.ContextLayout}, copy {options.NeighborCopy}: max |Δlogit| {worst:G3}, teacher-forced argmax agreement {agree}/{positions}"));

        // Two float32 implementations of a loss of order 3, reduced in different orders: within the logits' tolerance.
        Assert.Equal(theirs["loss"].item<double>(), loss.item<float>(), 1e-4);
        int compared = 0;
        foreach (var (name, param) in model.named_parameters())
        {
            var ours = param.grad!;
            var peer = theirs[$"grad.{name}"];
            Assert.Equal(ours.shape, peer.shape);
            double scale = peer.abs().max().item<float>();
            double diff = (ours - peer).abs().max().item<float>();
            Assert.True(diff <= 1e-5 + 1e-3 * scale, $"gradient of {name} differs by {diff} (largest {scale})");
            compared++;
        }

        Assert.Equal(theirs.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), compared);
        foreach (var t in theirs.Values) t.Dispose();
    }
}

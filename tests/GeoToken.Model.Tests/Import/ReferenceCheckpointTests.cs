using System.Globalization;
using System.Text.Json.Nodes;
using GeoToken.Decoding;
using GeoToken.IO;
using GeoToken.Model.Import;
using GeoToken.Model.Tests.Decoding;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Import;

/// <summary>
/// ReferenceCheckpoint against benchmarks/peers/reference_layout.py, a PyTorch model with the reference implementation's
/// state-dict names and computation: logits, greedy and the reference's one-stage beam search agree; exported state dicts
/// load with strict=True and give the same logits; .NET → PyTorch → .NET is bit-identical.
/// </summary>
public class ReferenceCheckpointTests(ITestOutputHelper output)
{
    // Float32 transformers evaluated by two libraries differ by rounding only; 1e-4 is far above it (observed ~1e-6)
    // and far below what a wrong mapping (a swapped norm, view or head) changes.
    private const double Tolerance = 1e-4;

    /// <summary>Reference-compatible options: 3 views of 768 features (the reference hard-codes 768), k = 15, T = 11.</summary>
    private static GeoTokenModelOptions Reduced => GeoTokenModelOptions.Paper with { ModelDimension = 64, HeadCount = 4, FeedForwardDimension = 128, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0 };

    [Fact]
    public void Imported_reduced_model_matches_the_reference_layout_peer()
    {
        string pth = Create(64, 4, 128, 2, seed: 3);
        CompareWithPeer(pth, heads: 4, images: 6);
    }

    /// <summary>
    /// The paper's size (d 512, 8 heads, ff 1024, 10 + 10 layers, ≈ 55M parameters, a 220 MB checkpoint): logits and greedy
    /// decoding for one image. (The peer re-decodes the whole prefix and recomputes the memory's keys and values at every
    /// step, as the reference does, which takes minutes with Debian's reference BLAS; the beam search is compared on the
    /// reduced model.)
    /// </summary>
    [Fact]
    public void Imported_paper_size_model_matches_the_reference_layout_peer()
    {
        string pth = Create(512, 8, 1024, 10, seed: 4);
        CompareWithPeer(pth, heads: 8, images: 1, beam: false);
    }

    [Fact]
    public void Infers_the_options_and_reports_the_unused_tensors()
    {
        string pth = Create(64, 4, 128, 2, seed: 5);
        using var state = PyTorchCheckpoint.Read(pth, cancellationToken: TestContext.Current.CancellationToken);
        var o = ReferenceCheckpoint.InferOptions(state, new ReferenceImportOptions { HeadCount = 4 });
        Assert.Empty(o.DescribeDifferences(Reduced with { Dropout = 0.1 }));
        using var imported = ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = 4 }).Model;
        var result = ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = 4 });
        result.Model.Dispose();
        Assert.Equal(["similarity_embedding.weight", "metadata_proj.weight", "metadata_proj.bias", "coord_head.weight", "coord_head.bias"], result.IgnoredTensors);

        // The checkpoint's position rows are used as they are.
        using var pe = imported.GetPositionalEncoding();
        Assert.True(pe.equal(state["encoder_pos_encoder.pe"].reshape(500, 64).narrow(0, 0, pe.shape[0])).all().item<bool>());

        var heads = Assert.Throws<InvalidDataException>(() => ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = 5 }));
        Assert.Contains("not divisible by 5 heads", heads.Message, StringComparison.Ordinal);

        using var partial = Copy(state, skip: "decoder.layers.1.norm3.bias");
        var missing = Assert.Throws<InvalidDataException>(() => ReferenceCheckpoint.Import(partial, new ReferenceImportOptions { HeadCount = 4 }));
        Assert.Contains("missing 'decoder.layers.1.norm3.bias'", missing.Message, StringComparison.Ordinal);

        using var extra = Copy(state);
        extra.Add("encoder.norm.weight", ones(64));
        var unexpected = Assert.Throws<InvalidDataException>(() => ReferenceCheckpoint.Import(extra, new ReferenceImportOptions { HeadCount = 4 }));
        Assert.Contains("unexpected 'encoder.norm.weight'", unexpected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_of_an_imported_model_gives_back_the_checkpoint()
    {
        string pth = Create(64, 4, 128, 2, seed: 6);
        using var state = PyTorchCheckpoint.Read(pth, cancellationToken: TestContext.Current.CancellationToken);
        var result = ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = 4 });
        using var model = result.Model;
        using var exported = ReferenceCheckpoint.Export(model);
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), exported.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, theirs) in state)
        {
            var ours = exported[name];
            if (result.IgnoredTensors.Contains(name))
            {
                Assert.True(ours.eq(0).all().item<bool>(), $"{name} should be exported as zeros");
                continue;
            }

            Assert.Equal(theirs.shape, ours.shape);
            if (name == "encoder_pos_encoder.pe")
            {
                // The model's rows are the checkpoint's; rows beyond them (never read with k = 15) are computed here in
                // float32 like PyTorch, whose sin/cos of angles up to 500 round differently (measured 1.5e-5).
                int rows = model.PositionalEncodingLength;
                Assert.True(ours.narrow(0, 0, rows).equal(theirs.narrow(0, 0, rows)).all().item<bool>(), "the model's position rows changed");
                double diff = (ours - theirs).abs().max().item<float>();
                output.WriteLine($"encoder position rows {rows}..499 differ from PyTorch's by up to {diff:G3}");
                Assert.True(diff <= Tolerance, $"computed position rows differ from PyTorch's by {diff}");
                continue;
            }

            Assert.True(ours.equal(theirs).all().item<bool>(), $"{name} differs after import and export");
        }
    }

    [Fact]
    public void Exported_model_loads_strictly_in_pytorch_with_the_same_logits_and_round_trips_bit_identically()
    {
        random.manual_seed(12);
        using var model = new GeoTokenModel(Reduced);
        model.eval();
        string pth = TestData.TempPath("exported.pth");
        using (var exported = ReferenceCheckpoint.Export(model)) PyTorchCheckpoint.Write(pth, exported);

        using var batch = TestData.Batch(Reduced, 4, seed: 13);
        var peer = RunPeer(pth, 4, batch, "none");
        CheckLogits(model, batch, peer);

        // .NET → PyTorch (load_state_dict(strict=True), torch.save) → .NET
        string resaved = TestData.TempPath("resaved.pth");
        PythonPeer.Run("reference_layout.py", "resave", "--checkpoint", pth, "--heads", "4", "--out", resaved);
        using var state = PyTorchCheckpoint.Read(resaved, cancellationToken: TestContext.Current.CancellationToken);
        using var back = ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = 4, Dropout = 0 }).Model;
        Assert.Empty(back.Options.DescribeDifferences(model.Options));
        var ours = model.state_dict();
        var theirs = back.state_dict();
        Assert.Equal(ours.Keys, theirs.Keys);
        foreach (var (name, t) in ours) Assert.True(t.equal(theirs[name]).all().item<bool>(), $"{name} changed in the round trip");
        using var pa = model.GetPositionalEncoding();
        using var pb = back.GetPositionalEncoding();
        Assert.True(pa.equal(pb).all().item<bool>(), "the position table changed in the round trip");
        foreach (var t in peer.Values) t.Dispose();
    }

    [Fact]
    public void Only_reference_compatible_models_export()
    {
        random.manual_seed(1);
        using var small = new GeoTokenModel(GeoTokenModelOptions.Tiny);
        var e = Assert.Throws<ArgumentException>(() => ReferenceCheckpoint.Export(small));
        Assert.Contains("ContextLayout Compact", e.Message, StringComparison.Ordinal);
        Assert.Contains("NeighborCopy true", e.Message, StringComparison.Ordinal);
        var problems = ReferenceCheckpoint.ExportProblems(Reduced with { FeatureDimension = 512, DecoderLayers = 3, NormOrder = NormOrder.Pre });
        Assert.Equal(3, problems.Count);
    }

    private void CompareWithPeer(string pth, int heads, int images, bool beam = true)
    {
        using var state = PyTorchCheckpoint.Read(pth, cancellationToken: TestContext.Current.CancellationToken);
        using var model = ReferenceCheckpoint.Import(state, new ReferenceImportOptions { HeadCount = heads }).Model;
        using var batch = TestData.Batch(model.Options, images, seed: 17);
        var peer = RunPeer(pth, heads, batch, beam ? "all" : "greedy");
        output.WriteLine($"logits differ from the peer's by at most {CheckLogits(model, batch, peer):G3}");

        using var scope = NewDisposeScope();
        var memory = model.Encode(batch);
        var search = new GeoTokenSearch(model);
        int t = model.Options.SequenceLength;

        // Greedy: where the sequences part, the two tokens' logits must be tied within the tolerance.
        var greedy = search.Greedy(batch, cancellationToken: TestContext.Current.CancellationToken);
        long[] theirGreedy = peer["greedy"].data<long>().ToArray();
        int greedyDiffs = 0;
        for (int i = 0; i < images; i++)
        {
            var ours = greedy[i].Tokens;
            int p = Enumerable.Range(0, t).FirstOrDefault(q => ours[q] != theirGreedy[i * t + q], -1);
            if (p < 0) continue;
            greedyDiffs++;
            var lp = SearchTestSupport.NextLogProbabilities(model, memory, i, ours.Take(p).ToArray());
            double gap = Math.Abs(lp[ours[p]] - lp[(int)theirGreedy[i * t + p]]);
            Assert.True(gap <= Tolerance, $"image {i}: greedy tokens differ at position {p} with a log-probability gap of {gap}");
        }

        int beamDiffs = 0;
        if (beam) beamDiffs = CompareBeams(model, memory, batch, peer);
        output.WriteLine($"{images} images: greedy differed on {greedyDiffs}, beams differed at {beamDiffs} of {(beam ? images * 5 : 0)} ranks (all within {Tolerance}).");
        foreach (var v in peer.Values) v.Dispose();
    }

    /// <summary>The reference's one-stage beam search (width 5) and ours: the same beams in the same order, with the same scores.</summary>
    private static int CompareBeams(GeoTokenModel model, Tensor memory, GeoTokenBatch batch, Dictionary<string, Tensor> peer)
    {
        int images = batch.Count, t = model.Options.SequenceLength;
        var search = new GeoTokenSearch(model);
        var beams = search.BeamSearch(batch, new BeamSearchOptions { CommitLevel = null, Width = 5 }, TestContext.Current.CancellationToken);
        long[] theirTokens = peer["beam.tokens"].data<long>().ToArray();
        double[] theirScores = peer["beam.scores"].data<double>().ToArray();
        long[] theirBest = peer["beam.best"].data<long>().ToArray();
        int beamDiffs = 0;
        for (int i = 0; i < images; i++)
        {
            Assert.Equal(5, beams[i].Count);
            Assert.Equal(theirBest.Skip(i * t).Take(t), theirTokens.Skip(i * 5 * t).Take(t)); // the reference's best is its top-ranked beam
            for (int r = 0; r < 5; r++)
            {
                var ours = beams[i][r];
                var theirs = theirTokens.Skip((i * 5 + r) * t).Take(t).Select(x => (int)x).ToArray();
                double theirScore = theirScores[i * 5 + r];
                Assert.True(Math.Abs(ours.LogProbability - theirScore) <= Tolerance, $"image {i} beam {r}: score {ours.LogProbability} vs the reference's {theirScore}");
                if (ours.Tokens.SequenceEqual(theirs)) continue;
                beamDiffs++;
                double theirsUnderOurs = SearchTestSupport.SequenceLogProbability(model, memory, i, theirs);
                Assert.True(Math.Abs(theirsUnderOurs - ours.LogProbability) <= Tolerance,
                    $"image {i} beam {r}: [{string.Join(' ', ours.Tokens)}] ({ours.LogProbability}) vs the reference's [{string.Join(' ', theirs)}] ({theirsUnderOurs} under our model)");
            }
        }

        return beamDiffs;
    }

    private static double CheckLogits(GeoTokenModel model, GeoTokenBatch batch, Dictionary<string, Tensor> peer)
    {
        double worst = 0;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.Forward(batch);
        for (int p = 0; p < logits.Length; p++)
        {
            double diff = (logits[p] - peer[$"logits.{p}"]).abs().max().item<float>();
            Assert.True(diff <= Tolerance, $"logits at position {p} differ by {diff}");
            worst = Math.Max(worst, diff);
        }

        return worst;
    }

    private static string Create(int d, int heads, int ff, int layers, int seed)
    {
        string path = TestData.TempPath("reference.pth");
        PythonPeer.Run("reference_layout.py", "create", "--out", path, "--d", Str(d), "--heads", Str(heads), "--ff", Str(ff), "--layers", Str(layers), "--seed", Str(seed));
        return path;
    }

    private static Dictionary<string, Tensor> RunPeer(string pth, int heads, GeoTokenBatch batch, string search = "all")
    {
        string dir = Path.GetDirectoryName(pth)!;
        string batchPath = Path.Combine(dir, "batch.bin"), outPath = Path.Combine(dir, "peer.bin");
        TensorFile.Write(batchPath, new JsonObject { ["kind"] = "batch" },
        [
            ("query", batch.QueryFeatures), ("neighbors", batch.NeighborFeatures),
            ("neighbor_tokens", batch.NeighborTokens), ("targets", batch.TargetTokens!),
        ]);
        PythonPeer.Run("reference_layout.py", "run", "--checkpoint", pth, "--heads", Str(heads), "--batch", batchPath, "--out", outPath, "--search", search);
        var contents = TensorFile.ReadHeader(outPath);
        return TensorFile.ReadTensors(contents, contents.Tensors.Keys);
    }

    private static StateDict Copy(StateDict state, string? skip = null)
    {
        var copy = new StateDict(state.Source);
        foreach (var (name, t) in state)
        {
            if (name != skip) copy.Add(name, t.clone());
        }

        return copy;
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);
}

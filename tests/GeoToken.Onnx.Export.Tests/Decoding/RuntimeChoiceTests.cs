using GeoToken.Decoding;
using GeoToken.Data;
using GeoToken.Evaluation;
using GeoToken.Model;
using GeoToken.Model.Tests;
using GeoToken.Tests.Support;
using GeoToken.Onnx.Export.Tests.Inference;
using GeoToken.Onnx.Export.Tests.Support;
using GeoToken.Onnx.Inference;
using GeoToken.Prediction;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Onnx.Export.Tests.Decoding;

/// <summary>
/// The predictor and the evaluation pick the runtime from the model they are given (<see cref="GeoTokenRuntimes"/>):
/// a TorchSharp model folder or <c>.gtm</c> file runs on TorchSharp, an ONNX export on ONNX Runtime, and both give the
/// same answers up to near-ties that the two runtimes' rounding may decide (asserted where they part).
/// </summary>
public sealed class RuntimeChoiceTests(RuntimeChoiceTests.Synth data) : IClassFixture<RuntimeChoiceTests.Synth>
{
    /// <summary>A small SynthGeo benchmark (4,000 gallery rows, 300 test rows, 64-d float32 image features).</summary>
    public sealed class Synth() : SynthGeoFolder("geotoken-onnx-synth-", trainRows: 4000, testRows: 300, seed: 3, FeatureElementType.Float32);

    /// <summary>As in <see cref="OnnxGeoTokenSearchTests"/>: per sequence log-probability, and twice that for two competing scores.</summary>
    private const double ScoreTolerance = 1e-4;

    private const double TieTolerance = 2 * ScoreTolerance;

    private static readonly GeoTokenModelOptions Options = TestData.Micro() with { ModalityCount = 1, FeatureDimension = 64, NeighborCount = 5, Tokenizer = new GeoTokenizerOptions { Level = 20, GroupSize = 2 } };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly IGeoTokenRuntime[] Both = [TorchGeoTokenRuntime.Cpu, OnnxGeoTokenRuntime.Default];

    private string Gallery => Path.GetDirectoryName(data.Train.MetaPath)!;

    [Fact]
    public void Each_model_opens_on_the_runtime_of_its_format_in_either_order()
    {
        using var dir = new TempDir();
        var (folder, gtm, onnx) = SaveAll(dir, seed: 5);
        foreach (var runtimes in new[] { Both, Both.Reverse().ToArray() })
        {
            using (var m = GeoTokenRuntimes.Open(folder, runtimes, Ct)) Assert.Equal("TorchSharp", m.Runtime);
            using (var m = GeoTokenRuntimes.Open(Path.Combine(folder, "config.json"), runtimes, Ct)) Assert.Equal("TorchSharp", m.Runtime);
            using (var m = GeoTokenRuntimes.Open(gtm, runtimes, Ct)) Assert.Equal("TorchSharp", m.Runtime);
            using var o = GeoTokenRuntimes.Open(onnx, runtimes, Ct);
            Assert.Equal("ONNX Runtime", o.Runtime);
            Assert.Equal(Options.SequenceLength, o.Info.SequenceLength);
            Assert.Equal(Options.NeighborCount, o.Info.NeighborCount);
        }

        // Without the runtime a model needs: one line naming the package that brings it.
        var noOnnx = Assert.Throws<ArgumentException>(() => GeoTokenRuntimes.Open(onnx, [TorchGeoTokenRuntime.Cpu], Ct));
        Assert.Contains("OnnxGeoTokenRuntime (GeoToken.Onnx)", noOnnx.Message, StringComparison.Ordinal);
        var noTorch = Assert.Throws<ArgumentException>(() => GeoTokenRuntimes.Open(gtm, [OnnxGeoTokenRuntime.Default], Ct));
        Assert.Contains("TorchGeoTokenRuntime (GeoToken.Model)", noTorch.Message, StringComparison.Ordinal);
        Assert.Contains("No runtime is given", Assert.Throws<ArgumentException>(() => GeoTokenRuntimes.Open(gtm, [], Ct)).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => GeoTokenRuntimes.Open(Path.Combine(dir.Path, "missing"), Both, Ct));
        var options = new GeoTokenPredictorOptions { ModelPath = onnx, GalleryDirectory = Gallery };
        Assert.Contains("Runtimes is empty", Assert.Throws<ArgumentException>(() => GeoTokenPredictor.Open(options, Ct)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_runtime_models_decode_what_their_own_searches_decode()
    {
        // The runtime contract only carries inputs and sessions: on the same inputs the same computation runs, so the
        // sequences are bit-identical to those of each runtime's own search (GeoTokenSearch, OnnxGeoTokenSearch).
        using var exported = ExportFixtures.Export("post-paper-copy", seed: 9);
        var (model, _, onnx) = exported;
        const int b = 4;
        using var batch = ExportFixtures.Batch(model.Options, b, seed: 10);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);
        var inputs = new EncoderInputs { Count = b, QueryFeatures = query, NeighborFeatures = neighbors, NeighborTokens = neighborTokens };
        var search = new TokenSearch(new GeoTokenizer(model.Options.Tokenizer));
        var plan = SearchPlan.ForPool(new CandidatePoolOptions { Samples = 5, BeamWidth = 3, BeamCount = 2 });
        long[] keys = [11, 12, 13, 14];

        // The same weights in a second model (seeding a new one would race with tests that draw from torch's global generator).
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "m.gtm");
        GeoTokenModelFile.Save(model, path);
        using var torch = TorchGeoTokenRuntime.Wrap(GeoTokenModelFile.Load(path), path);
        Assert.Equal("TorchSharp", torch.Runtime);
        using (var encoded = torch.Encode(inputs, Ct))
        {
            var ours = encoded.Decode(s => search.Run(s, plan, keys, Ct), Ct);
            var again = encoded.Decode(s => search.Run(s, plan, keys, Ct), Ct); // a second session from the same encoder output
            var theirs = new GeoTokenSearch(model).Run(batch, plan, keys, Ct);
            AssertSame(theirs, ours);
            AssertSame(theirs, again);
        }

        IRuntimeModel ort = onnx;
        using (var encoded = ort.Encode(inputs, Ct))
        {
            var ours = encoded.Decode(s => search.Run(s, plan, keys, Ct), Ct);
            var again = encoded.Decode(s => search.Run(s, plan, keys, Ct), Ct);
            using var state = onnx.Encode(query, neighbors, neighborTokens, b, Ct);
            var theirs = new OnnxGeoTokenSearch(onnx).Run(state, plan, keys, Ct);
            AssertSame(theirs, ours);
            AssertSame(theirs, again);
        }

        Assert.Throws<ArgumentException>(() => ort.Encode(inputs with { NeighborTokens = neighborTokens[1..] }, Ct));
    }

    private static void AssertSame(IReadOnlyList<ImageSearchResult> expected, IReadOnlyList<ImageSearchResult> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i].ToPool(), actual[i].ToPool());
            Assert.Equal(e.Select(c => (c.Cell, c.Count, c.LogProbability)), a.Select(c => (c.Cell, c.Count, c.LogProbability)));
        }
    }

    [Fact]
    public void The_reward_head_refuses_an_ONNX_model_in_one_line()
    {
        using var dir = new TempDir();
        var (_, _, onnx) = SaveAll(dir, seed: 6);
        random.manual_seed(7);
        using var head = new RewardHead(Options.ModelDimension);
        using var scorer = new RewardScorer(head);
        var e = Assert.Throws<ArgumentException>(() => GeoTokenPredictor.Open(new GeoTokenPredictorOptions { ModelPath = onnx, Runtimes = Both, GalleryDirectory = Gallery, Scorers = [scorer] }, Ct));
        Assert.Contains("needs the TorchSharp runtime", e.Message, StringComparison.Ordinal);
        Assert.Contains(onnx, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_evaluation_on_an_ONNX_export_gives_TorchSharps_columns_up_to_near_ties()
    {
        using var dir = new TempDir();
        var (folder, _, onnx) = SaveAll(dir, seed: 8);
        var recorder = new RecordingRuntime(TorchGeoTokenRuntime.Cpu);
        const int n = 64, batch = 16;
        EvaluationRunOptions Run(string model, IGeoTokenRuntime runtime) => new()
        {
            ModelPath = model,
            Runtimes = [runtime],
            GalleryDirectory = Gallery,
            QueryDirectory = Path.GetDirectoryName(data.Test.MetaPath)!,
            MaxQueries = n,
            BatchSize = batch,
            Pool = new CandidatePoolOptions { Samples = 6 },
            Neighbors = new NeighborCacheOptions { Directory = dir.Path },
        };
        var torch = await EvaluationRun.RunAsync(Run(folder, recorder), cancellationToken: Ct);
        var ort = await EvaluationRun.RunAsync(Run(onnx, OnnxGeoTokenRuntime.Default), cancellationToken: Ct);
        Assert.Equal("TorchSharp", torch.Runtime);
        Assert.Equal("ONNX Runtime", ort.Runtime);
        Assert.Equal(torch.Strategies.Select(s => s.Name), ort.Strategies.Select(s => s.Name));
        Assert.Equal(torch.Strategies.Single(s => s.Name == "knn").Predictions, ort.Strategies.Single(s => s.Name == "knn").Predictions);

        using var model = GeoTokenModelFile.Load(folder);
        model.eval();
        var tokenizer = new GeoTokenizer(Options.Tokenizer);
        foreach (string column in new[] { "greedy", "beam", "beam-paper" })
        {
            var t = torch.Strategies.Single(s => s.Name == column).Predictions;
            var o = ort.Strategies.Single(s => s.Name == column).Predictions;
            int identical = 0;
            for (int row = 0; row < n; row++)
            {
                var (a, b) = (Tokens(tokenizer, t[row]), Tokens(tokenizer, o[row]));
                if (a.SequenceEqual(b))
                {
                    identical++;
                    continue;
                }

                using var single = recorder.Single(row / batch, row % batch, Options);
                if (column == "greedy")
                {
                    // Greedy parts only where the two tokens it chooses between are a near-tie.
                    int p = Enumerable.Range(0, a.Length).First(q => a[q] != b[q]);
                    var lp = OnnxGeoTokenModelTests.TorchLogProbabilities(model, single, 0, a.Take(p).Select(x => (long)x).ToArray());
                    Assert.True(Math.Abs(lp[a[p]] - lp[b[p]]) <= TieTolerance, $"query {row}: greedy parts at position {p} where tokens {a[p]} ({lp[a[p]]}) and {b[p]} ({lp[b[p]]}) are not a near-tie");
                }
                else if (column == "beam-paper")
                {
                    // The one-stage search ranks finished beams by their log-probability: the two answers must be a near-tie.
                    double sa = Score(model, single, a), sb = Score(model, single, b);
                    Assert.True(Math.Abs(sa - sb) <= TieTolerance, $"query {row}: beam-paper answers {string.Join(',', a)} ({sa}) and {string.Join(',', b)} ({sb}) are not a near-tie");
                }
            }

            Assert.True(identical >= n / 2, $"{column}: only {identical} of {n} queries answered alike on both runtimes; random models are rarely this tied.");
        }
    }

    /// <summary>The model as a folder, a <c>.gtm</c> file and an ONNX export.</summary>
    private static (string Folder, string Gtm, string Onnx) SaveAll(TempDir dir, long seed)
    {
        using var model = ExportFixtures.NewModel(Options, seed);
        string folder = Path.Combine(dir.Path, "model"), gtm = Path.Combine(dir.Path, "model.gtm"), onnx = Path.Combine(dir.Path, "onnx");
        GeoTokenModelFile.Save(model, folder);
        GeoTokenModelFile.Save(model, gtm);
        GeoTokenOnnxExporter.Export(model, onnx, cancellationToken: Ct);
        return (folder, gtm, onnx);
    }

    /// <summary>The tokens of the level-20 cell at <paramref name="position"/> (a cell centre decodes to its own tokens).</summary>
    private static int[] Tokens(GeoTokenizer tokenizer, Geometry.LatLng position)
    {
        var tokens = new int[tokenizer.Length];
        tokenizer.Encode(position, tokens);
        return tokens;
    }

    /// <summary>A sequence's log-probability under TorchSharp (teacher-forced, position by position).</summary>
    private static double Score(GeoTokenModel model, GeoTokenBatch single, int[] tokens)
    {
        double sum = 0;
        for (int p = 0; p < tokens.Length; p++) sum += OnnxGeoTokenModelTests.TorchLogProbabilities(model, single, 0, tokens.Take(p).Select(x => (long)x).ToArray())[tokens[p]];
        return sum;
    }

    /// <summary>A runtime that keeps every batch's encoder inputs, to replay one query on TorchSharp.</summary>
    private sealed class RecordingRuntime(IGeoTokenRuntime inner) : IGeoTokenRuntime
    {
        private readonly List<EncoderInputs> _batches = [];

        public string Name => inner.Name;

        public string Formats => inner.Formats;

        public bool CanOpen(string modelPath) => inner.CanOpen(modelPath);

        public IRuntimeModel Open(string modelPath, CancellationToken cancellationToken = default) => new Model(inner.Open(modelPath, cancellationToken), _batches);

        /// <summary>Query <paramref name="index"/> of batch <paramref name="batch"/> as a batch of one.</summary>
        public GeoTokenBatch Single(int batch, int index, GeoTokenModelOptions o)
        {
            var inputs = _batches[batch];
            int m = o.ModalityCount, d = o.FeatureDimension, k = o.NeighborCount, t = o.SequenceLength;
            return new GeoTokenBatch(
                tensor(inputs.QueryFeatures.Span.Slice(index * m * d, m * d).ToArray(), [1, m, d]),
                tensor(inputs.NeighborFeatures.Span.Slice(index * k * m * d, k * m * d).ToArray(), [1, k, m, d]),
                tensor(inputs.NeighborTokens.Span.Slice(index * k * t, k * t).ToArray(), [1, k, t]));
        }

        private sealed class Model(IRuntimeModel inner, List<EncoderInputs> batches) : IRuntimeModel
        {
            public string Runtime => inner.Runtime;

            public string Path => inner.Path;

            public RuntimeModelInfo Info => inner.Info;

            public IEncodedBatch Encode(EncoderInputs inputs, CancellationToken cancellationToken = default)
            {
                batches.Add(inputs with { QueryFeatures = inputs.QueryFeatures.ToArray(), NeighborFeatures = inputs.NeighborFeatures.ToArray(), NeighborTokens = inputs.NeighborTokens.ToArray() });
                return inner.Encode(inputs, cancellationToken);
            }

            public void Dispose() => inner.Dispose();
        }
    }
}

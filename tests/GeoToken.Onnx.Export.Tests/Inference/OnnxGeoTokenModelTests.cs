using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Onnx.Export.Tests.Support;
using GeoToken.Onnx.Inference;
using static TorchSharp.torch;

namespace GeoToken.Onnx.Export.Tests.Inference;

public class OnnxGeoTokenModelTests
{
    /// <summary>Per log-probability, as in <see cref="GeoTokenOnnxExporterTests"/>.</summary>
    private const float Tolerance = 1e-4f;

    /// <summary>
    /// How close TorchSharp's two best scores must be where the two greedy decodings choose differently: twice
    /// <see cref="Tolerance"/> (each path's scores may move by up to the tolerance).
    /// </summary>
    private const double TieTolerance = 2e-4;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("tiny")]
    [InlineData("post-paper-copy")]
    [InlineData("paper-shaped")]
    public void Steps_with_beam_rows_match_the_TorchSharp_cache_reordered_alike(string shape)
    {
        // Rows are expanded to 3 per query after the first step, then reordered within each query every step
        // (repeating and dropping rows, as beam search does), each row appending its own token.
        using var exported = ExportFixtures.Export(shape, seed: 3);
        var (model, _, onnx) = exported;
        var options = model.Options;
        const int b = 2, beams = 3;
        using var batch = ExportFixtures.Batch(options, b, seed: 4);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);
        using var state = onnx.Encode(query, neighbors, neighborTokens, b, Ct);
        using var cache = model.BeginDecoding(batch);
        var rng = new Random(5);
        var vocab = model.Tokenizer.VocabularySizes.ToArray();
        long[] rows = [], previous = [];
        double worst = 0;
        for (int p = 0; p < options.SequenceLength; p++)
        {
            using var scope = NewDisposeScope();
            if (p > 0)
            {
                int perQueryOld = p == 1 ? 1 : beams;
                rows = Enumerable.Range(0, b * beams).Select(i => (long)(i / beams * perQueryOld + rng.Next(perQueryOld))).ToArray();
                previous = rows.Select(_ => (long)rng.Next(vocab[p - 1])).ToArray();
                cache.Reorder(rows);
            }

            var expected = ExportFixtures.Rows(cache.Step(p == 0 ? null : tensor(previous)));
            var actual = ExportFixtures.Rows(onnx.Step(state, previous, rows));
            Assert.Equal(expected.Length, actual.Length);
            Assert.Equal(p == 0 ? b : b * beams, state.Rows);
            for (int r = 0; r < expected.Length; r++)
            {
                for (int v = 0; v < expected[r].Length; v++) worst = Math.Max(worst, Math.Abs(expected[r][v] - actual[r][v]));
            }
        }

        Assert.True(worst < Tolerance, $"{shape}: max |ONNX − TorchSharp| = {worst:G3}");
    }

    [Theory]
    [MemberData(nameof(ExportFixtures.Shapes), MemberType = typeof(ExportFixtures))]
    public void Greedy_on_the_runtime_matches_GeoTokenSearch_greedy_up_to_near_ties(string shape)
    {
        using var exported = ExportFixtures.Export(shape, seed: 21);
        var (model, _, onnx) = exported;
        var options = model.Options;
        const int b = 16;
        using var batch = ExportFixtures.Batch(options, b, seed: 22);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);
        using var state = onnx.Encode(query, neighbors, neighborTokens, b, Ct);
        var ours = new OnnxGeoTokenSearch(onnx).Greedy(state, cancellationToken: Ct).Select(s => s.Tokens.ToArray()).ToArray();
        var theirs = new GeoTokenSearch(model).Greedy(batch, cancellationToken: Ct);
        int identical = 0;
        for (int i = 0; i < b; i++)
        {
            var expected = theirs[i].Tokens;
            int p = Enumerable.Range(0, expected.Count).FirstOrDefault(q => expected[q] != ours[i][q], -1);
            if (p < 0)
            {
                identical++;
                continue;
            }

            // The first difference must be a near-tie in TorchSharp's own scores on the common prefix.
            var logProbs = TorchLogProbabilities(model, batch, i, expected.Take(p).Select(x => (long)x).ToArray());
            double best = logProbs.Max();
            Assert.True(best - logProbs[ours[i][p]] <= TieTolerance,
                $"{shape}, query {i}, position {p}: the runtime chose {ours[i][p]} (TorchSharp log-probability {logProbs[ours[i][p]]:G9}), TorchSharp {expected[p]} ({best:G9}).");
        }

        Assert.True(identical >= b / 2, $"{shape}: only {identical} of {b} greedy sequences are identical; random models are rarely this tied.");
    }

    [Fact]
    public void A_tampered_graph_is_refused_naming_the_file()
    {
        using var model = ExportFixtures.NewModel(ExportFixtures.Options("post-compact"), seed: 1);
        using var dir = new TempDir();
        GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct);
        string path = Path.Combine(dir.Path, "decoder_step.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01; // one bit flipped inside the weights
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => new OnnxGeoTokenModel(dir.Path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_config_or_with_a_missing_graph_is_refused_naming_the_file()
    {
        using var model = ExportFixtures.NewModel(ExportFixtures.Options("post-compact"), seed: 1);
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => new OnnxGeoTokenModel(dir.Path));
        Assert.Contains("config.json", e.Message, StringComparison.Ordinal);

        GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct);
        File.Delete(Path.Combine(dir.Path, "encoder.onnx"));
        e = Assert.Throws<FileNotFoundException>(() => new OnnxGeoTokenModel(dir.Path));
        Assert.Contains("encoder.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_with_other_vocabulary_sizes_is_refused_naming_the_field()
    {
        using var model = ExportFixtures.NewModel(ExportFixtures.Options("post-compact"), seed: 1);
        using var dir = new TempDir();
        GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct);
        string path = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"vocabularySizes\": [\n    6,", "\"vocabularySizes\": [\n    7,", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() => new OnnxGeoTokenModel(dir.Path));
        Assert.Contains("vocabularySizes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_export_of_the_first_format_version_is_refused_asking_for_a_new_export()
    {
        // Version 1 cached keys as [N, h, d/h, P]; version 2 as [N, h, P, d/h]. The graphs would load but mis-shape the cache.
        using var model = ExportFixtures.NewModel(ExportFixtures.Options("post-compact"), seed: 1);
        using var dir = new TempDir();
        GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct);
        string path = Path.Combine(dir.Path, "config.json");
        string text = File.ReadAllText(path);
        Assert.Contains("\"formatVersion\": 2", text, StringComparison.Ordinal);
        File.WriteAllText(path, text.Replace("\"formatVersion\": 2", "\"formatVersion\": 1", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() => new OnnxGeoTokenModel(dir.Path));
        Assert.Contains("formatVersion is 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("geotoken export onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_tokens_and_rows_are_refused_naming_the_element()
    {
        using var exported = ExportFixtures.Export("pre-compact-copy", seed: 1);
        var (_, _, onnx) = exported;
        var options = exported.Options;
        using var batch = ExportFixtures.Batch(options, 2, seed: 2);
        var (query, neighbors, neighborTokens) = ExportFixtures.Flat(batch);

        var badNeighbors = neighborTokens.ToArray();
        badNeighbors[7] = 16; // query 0, neighbor 1, position 1 (vocabulary 16)
        var e = Assert.Throws<ArgumentException>(() => onnx.Encode(query, neighbors, badNeighbors, 2, Ct));
        Assert.Contains("element 7", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => onnx.Encode(query, neighbors.AsSpan(1).ToArray(), neighborTokens, 2, Ct));

        using var state = onnx.Encode(query, neighbors, neighborTokens, 2, Ct);
        Assert.Throws<ArgumentException>(() => onnx.Step(state, [0, 0]));        // position 0 takes no tokens
        onnx.Step(state, []);
        e = Assert.Throws<ArgumentException>(() => onnx.Step(state, [0, 6]));    // the face is 0..5
        Assert.Contains("row 1", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => onnx.Step(state, [0, 0], [1, 0])); // rows may not cross queries
        Assert.Contains("element 0", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => onnx.Step(state, [0, 0, 0], [0, 0, 1])); // 3 rows for 2 queries
        Assert.Equal(1, state.Position);
        var logProbs = onnx.Step(state, [1, 1, 2, 2], [0, 0, 1, 1]);
        Assert.Equal(4, logProbs.GetLength(0));
        Assert.Equal(2, state.RowsPerQuery);
    }

    [Fact]
    public void An_export_folder_given_where_a_TorchSharp_model_is_needed_is_refused_saying_what_it_is()
    {
        using var model = ExportFixtures.NewModel(ExportFixtures.Options("post-compact"), seed: 1);
        using var dir = new TempDir();
        GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct);
        var e = Assert.Throws<InvalidDataException>(() => GeoTokenModelFile.Load(dir.Path));
        Assert.Contains("ONNX export", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir.Path, "config.json"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_refuses_to_replace_files_unless_told()
    {
        using var model = ExportFixtures.NewModel(ExportFixtures.Options("post-compact"), seed: 1);
        using var dir = new TempDir();
        var config = GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct);
        var e = Assert.Throws<IOException>(() => GeoTokenOnnxExporter.Export(model, dir.Path, cancellationToken: Ct));
        Assert.Contains("encoder.onnx", e.Message, StringComparison.Ordinal);
        var again = GeoTokenOnnxExporter.Export(model, dir.Path, new OnnxExportOptions { Overwrite = true }, Ct);
        Assert.Equal(config.Encoder.Sha256, again.Encoder.Sha256); // the export is deterministic
        Assert.Equal(17, again.Opset);
    }

    internal static float[] TorchLogProbabilities(GeoTokenModel model, GeoTokenBatch batch, int image, long[] prefix)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var memory = model.Encode(batch).narrow(0, image, 1);
        var logits = model.Decode(memory, tensor(prefix, [1, prefix.Length]), batch.NeighborTokens.narrow(0, image, 1))[prefix.Length];
        return logits.log_softmax(-1).data<float>().ToArray();
    }
}

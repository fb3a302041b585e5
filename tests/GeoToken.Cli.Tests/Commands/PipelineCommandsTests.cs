using System.Text.Json;

namespace GeoToken.Cli.Tests.Commands;

/// <summary>synth → index → retrieve → train → eval → predict through the real command tree, on a small SynthGeo set.</summary>
public sealed class PipelineCommandsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Synth_index_retrieve_train_eval_and_predict_work_together()
    {
        string dir = CliRunner.TempDir();
        var synth = await CliRunner.RunAsync("synth", "--out", dir, "--train", "3000", "--test", "200", "--dim", "64", "--seed", "3");
        Assert.True(synth.ExitCode == 0, synth.Error);
        Assert.True(File.Exists(Path.Combine(dir, "train", "image.npy")));

        string index = Path.Combine(dir, "train.gtci");
        var idx = await CliRunner.RunAsync("index", "--gallery", Path.Combine(dir, "train"), "--out", index, "--clusters", "20");
        Assert.True(idx.ExitCode == 0, idx.Error);

        string json = Path.Combine(dir, "retrieve.json");
        var ret = await CliRunner.RunAsync("retrieve", "--gallery", Path.Combine(dir, "train"), "--query", Path.Combine(dir, "test"), "--k", "15",
            "--out", Path.Combine(dir, "nb"), "--index", index, "--json", json);
        Assert.True(ret.ExitCode == 0, ret.Error);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, Ct)))
        {
            Assert.Equal(200, doc.RootElement.GetProperty("queries").GetInt64());
            Assert.InRange(doc.RootElement.GetProperty("scanned_fraction").GetDouble(), 0.0001, 0.9999);
            Assert.Equal(200, doc.RootElement.GetProperty("knn").GetProperty("n").GetInt32());
        }

        string model = Path.Combine(dir, "tiny"); // a model folder, the default format
        string trainJson = Path.Combine(dir, "train.json");
        var train = await CliRunner.RunAsync("train", "--train", Path.Combine(dir, "train"), "--val", Path.Combine(dir, "test"), "--out", model,
            "--preset", "tiny", "--epochs", "1", "--batch", "128", "--json", trainJson);
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.True(File.Exists(Path.Combine(model, "config.json")) && File.Exists(Path.Combine(model, "model.safetensors")) && File.Exists(model + ".ckpt"));
        Assert.Contains("greedy, epoch 1", train.Output);
        Assert.Contains("training neighbors: none shares the image's SERIES value", train.Output); // --neighbor-group auto
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(trainJson, Ct)))
        {
            Assert.Equal(1, doc.RootElement.GetProperty("epochs").GetInt32());
            Assert.Equal(200, doc.RootElement.GetProperty("last_validation").GetProperty("n").GetInt32());
        }

        string similarity = Path.Combine(dir, "sim.gts");
        var sim = await CliRunner.RunAsync("similarity", "--train", Path.Combine(dir, "train"), "--out", similarity, "--epochs", "1", "--batch", "256");
        Assert.True(sim.ExitCode == 0, sim.Error);
        Assert.Contains("similarity model:", sim.Output);

        string evalJson = Path.Combine(dir, "eval.json"), calibration = Path.Combine(dir, "calibration.json"), report = Path.Combine(dir, "report");
        var eval = await CliRunner.RunAsync("eval", "--model", model, "--gallery", Path.Combine(dir, "train"), "--query", Path.Combine(dir, "test"),
            "--max-queries", "40", "--samples", "6", "--json", evalJson, "--predictions", Path.Combine(dir, "pred.csv"), "--calibration", calibration, "--report", report,
            "--similarity", similarity, "--gps-gallery", "train", "--gps-index");
        Assert.True(eval.ExitCode == 0, eval.Error);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(evalJson, Ct)))
        {
            var names = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("strategy").GetString()!).ToArray();
            Assert.Equal(["knn", "gps-gallery", "greedy", "beam", "beam-paper", "logprob", "consensus", "mbr", "similarity", "similarity>top3>logprob", "oracle"], names);
            Assert.All(doc.RootElement.EnumerateArray(), e => Assert.Equal(40, e.GetProperty("n").GetInt32()));
            // The oracle is the pool's best candidate, so it is at least as close as any reranked choice.
            double Median(string s) => doc.RootElement.EnumerateArray().First(e => e.GetProperty("strategy").GetString() == s).GetProperty("median_km").GetDouble();
            Assert.True(Median("oracle") <= Median("consensus") && Median("oracle") <= Median("logprob"));
        }

        Assert.Equal(41, File.ReadAllLines(Path.Combine(dir, "pred.csv")).Length);
        var compare = await CliRunner.RunAsync("compare", "--predictions", Path.Combine(dir, "pred.csv"), "--strategies", "beam,beam-paper");
        Assert.True(compare.ExitCode == 0, compare.Error);
        Assert.Contains("against greedy (40 images)", compare.Output);
        Assert.Contains("beam-paper", compare.Output);
        Assert.True(File.Exists(Path.Combine(report, "report.html")));

        string predictJson = Path.Combine(dir, "predict.json");
        var predict = await CliRunner.RunAsync("predict", "--model", model, "--gallery", Path.Combine(dir, "train"), "--features", Path.Combine(dir, "test", "image.npy"),
            "--rows", "3", "--samples", "6", "--calibration", calibration, "--json", predictJson);
        Assert.True(predict.ExitCode == 0, predict.Error);
        Assert.Contains("row 3", predict.Output); // query rows counted from 1, as data rows are everywhere
        Assert.DoesNotContain("row 0", predict.Output);
        using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(predictJson, Ct)))
        {
            Assert.Equal(3, doc.RootElement.GetArrayLength());
            var first = doc.RootElement[0];
            Assert.True(first.GetProperty("uncertainty_calibrated").GetBoolean());
            var best = first.GetProperty("locations")[0];
            Assert.InRange(best.GetProperty("lat").GetDouble(), -90, 90);
            Assert.False(string.IsNullOrEmpty(best.GetProperty("place").GetString()));
            Assert.Equal(15, first.GetProperty("neighbors").GetArrayLength());
        }

        // The same commands on the model's ONNX export run on ONNX Runtime (the runtime follows from the --model given).
        string onnx = Path.Combine(dir, "tiny-onnx");
        var export = await CliRunner.RunAsync("export", "onnx", "--model", model, "--out", onnx);
        Assert.True(export.ExitCode == 0, export.Error);
        var onnxEval = await CliRunner.RunAsync("eval", "--model", onnx, "--gallery", Path.Combine(dir, "train"), "--query", Path.Combine(dir, "test"),
            "--max-queries", "40", "--samples", "6", "--predictions", Path.Combine(dir, "pred-onnx.csv"));
        Assert.True(onnxEval.ExitCode == 0, onnxEval.Error);
        Assert.Contains("on ONNX Runtime", onnxEval.Output);
        Assert.Contains("on TorchSharp", eval.Output);
        Assert.Equal(File.ReadLines(Path.Combine(dir, "pred.csv")).First().Replace(",LAT_pred_gps-gallery,LON_pred_gps-gallery", "").Replace(",LAT_pred_similarity,LON_pred_similarity,LAT_pred_similarity>top3>logprob,LON_pred_similarity>top3>logprob", ""),
            File.ReadLines(Path.Combine(dir, "pred-onnx.csv")).First());
        Assert.Equal(41, File.ReadAllLines(Path.Combine(dir, "pred-onnx.csv")).Length);
        var onnxPredict = await CliRunner.RunAsync("predict", "--model", onnx, "--gallery", Path.Combine(dir, "train"), "--features", Path.Combine(dir, "test", "image.npy"), "--rows", "3", "--samples", "6");
        Assert.True(onnxPredict.ExitCode == 0, onnxPredict.Error);
        Assert.Contains("on ONNX Runtime", onnxPredict.Error);
        Assert.Contains("row 3", onnxPredict.Output);
        var onnxReward = await CliRunner.RunAsync("predict", "--model", onnx, "--gallery", Path.Combine(dir, "train"), "--features", Path.Combine(dir, "test", "image.npy"), "--rows", "1", "--reward", Path.Combine(dir, "absent.gtr"));
        Assert.Equal(1, onnxReward.ExitCode);
        Assert.Contains("absent.gtr", onnxReward.Error);

        var both = await CliRunner.RunAsync("predict", "--model", model, "--gallery", Path.Combine(dir, "train"));
        Assert.Equal(2, both.ExitCode); // a usage error
        Assert.Contains("--features", both.Error);
    }

    [Fact]
    public async Task Bad_inputs_are_reported_clearly()
    {
        string dir = CliRunner.TempDir();
        var r = await CliRunner.RunAsync("retrieve", "--gallery", Path.Combine(dir, "nope"), "--query", dir, "--out", Path.Combine(dir, "x"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nope", r.Error);
        r = await CliRunner.RunAsync("train", "--train", dir, "--out", Path.Combine(dir, "m.gtm"), "--preset", "huge");
        Assert.Equal(2, r.ExitCode); // a usage error: the presets are a fixed set
        Assert.Contains("error: --preset huge: use paper, small or tiny.", r.Error);
        r = await CliRunner.RunAsync("eval", "--model", Path.Combine(dir, "m.gtm"), "--gallery", dir, "--query", dir, "--commit-score", "leaf");
        Assert.Equal(2, r.ExitCode); // a usage error
        Assert.Contains("--commit-score leaf: use hierarchy or cell", r.Error);
        r = await CliRunner.RunAsync("synth", "--out", dir, "--train", "10", "--modalities", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--modalities 2: use 1 or 3.", r.Error);
        r = await CliRunner.RunAsync("train", "--bogus");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'--bogus'", r.Error);
        Assert.Contains("geotoken train --help", r.Error);
    }

    [Fact]
    public async Task Retrieve_with_a_bad_query_coordinate_names_it_and_leaves_no_output()
    {
        string dir = CliRunner.TempDir();
        var synth = await CliRunner.RunAsync("synth", "--out", dir, "--train", "500", "--test", "20", "--dim", "16", "--seed", "5");
        Assert.True(synth.ExitCode == 0, synth.Error);
        string queries = Path.Combine(dir, "queries");
        Directory.CreateDirectory(queries);
        File.Copy(Path.Combine(dir, "test", "image.npy"), Path.Combine(queries, "image.npy"));
        var meta = (await File.ReadAllLinesAsync(Path.Combine(dir, "test", "meta.csv"), Ct)).ToList();
        var header = meta[0].Split(',');
        var row = meta[3].Split(',');
        row[Array.IndexOf(header, "LAT")] = "91";
        meta[3] = string.Join(',', row);
        await File.WriteAllLinesAsync(Path.Combine(queries, "meta.csv"), meta, Ct);

        var r = await CliRunner.RunAsync("retrieve", "--gallery", Path.Combine(dir, "train"), "--query", queries, "--k", "5", "--out", Path.Combine(dir, "nb"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("meta.csv", r.Error);
        Assert.Contains("91", r.Error);
        Assert.Empty(Directory.GetFiles(dir, "nb*"));
    }
}

using System.Text.RegularExpressions;
using GeoToken.Data;
using GeoToken.Retrieval;

namespace GeoToken.Cli.Tests.Crash;

/// <summary>
/// Crash safety: <c>synth</c>, <c>index</c>, <c>gallery</c> and <c>train</c> run as child processes of
/// the built CLI and are SIGKILLed at seeded random points. After a kill every output file is absent,
/// its previous complete version, its complete new version, or a documented complete intermediate
/// (the gallery's manifest listing no photos yet) — never partial — and a rerun (with
/// <c>--resume</c> for train) produces exactly what an uninterrupted run produces.
/// </summary>
/// <remarks>
/// Exactness: synth, gallery and resumed training are byte-identical run to run. An index file
/// embeds its build time (<c>created</c>, <c>buildSeconds</c>), so index
/// files are compared by content: build info without the time, tree shape, and search results
/// under the calibrated default beam. Training from scratch is compared only from a common epoch-1 checkpoint onwards: two
/// fresh runs with the same <c>--seed</c> start from different weights (the model is built before
/// the trainer seeds torch; reported, not in this branch's scope). Stray <c>*.tmp-*</c> files of a
/// killed atomic write are counted and must never be taken for output; removing them on the rerun
/// is the integrity branch's cleanup, not in this tree, so it is not asserted.
/// </remarks>
public sealed partial class KillTests : IDisposable
{
    private readonly string _root = CliRunner.TempDir();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [GeneratedRegex(@"\.tmp-[0-9]+-[0-9a-f]{32}$")]
    private static partial Regex TempFile();

    [Fact]
    public Task Synth_killed_anywhere_leaves_no_partial_file_and_a_rerun_writes_the_same_bytes() =>
        KillAndRerunAsync("synth", ["synth", "--out", "s", "--train", "20000", "--test", "300", "--dim", "64", "--seed", "3"], kills: 3, seed: 11);

    [Fact]
    public async Task Index_killed_anywhere_leaves_no_partial_file_and_a_rerun_builds_the_same_index()
    {
        string data = Path.Combine(_root, "data");
        var synth = await CliProcess.RunAsync(_root, ["synth", "--out", data, "--train", "20000", "--test", "10", "--dim", "64", "--seed", "4"]);
        Assert.True(synth.ExitCode == 0, synth.Error);
        string gallery = Path.Combine(data, "train");
        await KillAndRerunAsync("index", ["index", "--gallery", gallery, "--out", "idx.gtci", "--clusters", "60"], kills: 3, seed: 12,
            same: (path, a, b) => Path.GetExtension(path) == ".gtci" ? SameIndex(gallery, a, b) : null);
    }

    [Fact]
    public async Task Gallery_killed_anywhere_leaves_no_partial_file_and_a_rerun_writes_the_same_gallery()
    {
        string photos = Path.Combine(_root, "photos");
        Directory.CreateDirectory(photos);
        foreach (var f in Directory.GetFiles(CliRunner.OnnxTestData("photos")))
        {
            foreach (string copy in new[] { "a", "b", "c" }) File.Copy(f, Path.Combine(photos, copy + "-" + Path.GetFileName(f))); // 27 photos: a longer run to kill
        }
        await KillAndRerunAsync("gallery", ["gallery", "--photos", photos, "--encoder", CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx"), "--preprocess", "caffe-squeezenet",
            "--encoder-output", "pool10_flattened", "--out", "g"], kills: 3, seed: 13,
            intermediate: (path, bytes) => Path.GetFileName(path) == "gallery-manifest.json" && ListsNoPhotos(bytes));
    }

    [Fact]
    public async Task Train_killed_in_its_second_epoch_resumes_to_the_same_model_as_an_uninterrupted_resume()
    {
        string data = Path.Combine(_root, "data");
        var synth = await CliProcess.RunAsync(_root, ["synth", "--out", data, "--train", "200", "--test", "10", "--dim", "16", "--seed", "4"]);
        Assert.True(synth.ExitCode == 0, synth.Error);
        string[] common = ["train", "--train", Path.Combine(data, "train"), "--out", "m.gtm", "--preset", "tiny", "--batch", "50", "--seed", "5"];
        string epoch1 = Path.Combine(_root, "epoch1");
        Directory.CreateDirectory(epoch1);
        var first = await CliProcess.RunAsync(epoch1, [.. common, "--epochs", "1"]);
        Assert.True(first.ExitCode == 0, first.Error);

        await KillAndRerunAsync("train", [.. common, "--epochs", "2", "--resume"], kills: 2, seed: 14, earliest: 0.5, prepare: work =>
        {
            foreach (var f in Directory.GetFiles(epoch1)) File.Copy(f, Path.Combine(work, Path.GetFileName(f)));
        });
    }

    /// <summary>
    /// Runs <paramref name="args"/> once uninterrupted in a work folder (the reference), then
    /// <paramref name="kills"/> times from the same starting state: SIGKILL after a seeded random
    /// fraction (from <paramref name="earliest"/> to 0.95; earlier is mostly .NET start-up) of the reference's duration, check the files, rerun, compare with the reference.
    /// The work folder has the same path every time, so paths recorded inside files agree.
    /// </summary>
    private async Task KillAndRerunAsync(string name, string[] args, int kills, int seed, double earliest = 0.15, Action<string>? prepare = null,
        Func<string, byte[], byte[], bool?>? same = null, Func<string, byte[], bool>? intermediate = null)
    {
        string work = Path.Combine(_root, name + "-work");
        Dictionary<string, byte[]> Reset()
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            Directory.CreateDirectory(work);
            prepare?.Invoke(work);
            return Snapshot(work).Files;
        }

        bool Same(string path, byte[] a, byte[] b) => same?.Invoke(Path.Combine(work, path), a, b) ?? WithoutTimes(path, a).AsSpan().SequenceEqual(WithoutTimes(path, b));

        var before = Reset();
        var reference = await CliProcess.RunAsync(work, args);
        Assert.True(reference.ExitCode == 0, $"{name}: the uninterrupted run failed: {reference.Error}");
        var expected = Snapshot(work);
        Assert.Empty(expected.Temp);

        var rng = new Random(seed);
        var log = new List<string>();
        for (int trial = 0; trial < kills; trial++)
        {
            Reset();
            var delay = reference.Elapsed * (earliest + ((0.95 - earliest) * rng.NextDouble()));
            var killed = await CliProcess.RunAsync(work, args, delay);
            var after = Snapshot(work);
            foreach (var (path, bytes) in after.Files)
            {
                bool previous = before.TryGetValue(path, out var old) && Same(path, old, bytes);
                bool complete = expected.Files.TryGetValue(path, out var done) && Same(path, done, bytes);
                bool documentedStep = intermediate?.Invoke(path, bytes) ?? false;
                Assert.True(previous || complete || documentedStep, $"{name} killed after {delay.TotalSeconds:F2} s: {path} is neither its previous nor its complete version (partial or corrupt output)");
            }

            var rerun = await CliProcess.RunAsync(work, args);
            Assert.True(rerun.ExitCode == 0, $"{name} killed after {delay.TotalSeconds:F2} s: the rerun failed: {rerun.Error}");
            var final = Snapshot(work);
            Assert.Equal(expected.Files.Keys.Order(StringComparer.Ordinal), final.Files.Keys.Order(StringComparer.Ordinal));
            foreach (var (path, bytes) in final.Files) Assert.True(Same(path, expected.Files[path], bytes), $"{name} killed after {delay.TotalSeconds:F2} s then rerun: {path} differs from the uninterrupted run's");
            foreach (string t in final.Temp) Assert.Contains(t, after.Temp); // the rerun itself leaves none behind
            log.Add($"kill at {delay.TotalSeconds:F2} s of {reference.Elapsed.TotalSeconds:F2} s: {(killed.Killed ? "killed" : $"finished first (exit {killed.ExitCode})")}, " +
                $"{after.Files.Count(f => !before.ContainsKey(f.Key))} of {expected.Files.Count - before.Count} new files present, {after.Temp.Count} stray temp files; rerun identical");
        }

        string report = $"{name}: {string.Join("; ", log)}";
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        if (Environment.GetEnvironmentVariable("GEOTOKEN_FUZZ_REPORT") is { Length: > 0 } file) File.AppendAllLines(file, [report]);
    }

    /// <summary>The gallery's claim on a new folder, written before anything else: a complete manifest listing no photos.</summary>
    private static bool ListsNoPhotos(byte[] manifest)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(manifest);
            return doc.RootElement.TryGetProperty("files", out var files) && files.GetArrayLength() == 0;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static (Dictionary<string, byte[]> Files, List<string> Temp) Snapshot(string dir)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var temp = new List<string>();
        foreach (string f in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(dir, f);
            if (TempFile().IsMatch(rel)) temp.Add(rel);
            else files[rel] = File.ReadAllBytes(f);
        }

        return (files, temp);
    }

    /// <summary>Two index files for <paramref name="galleryFolder"/> are the same index: build info but its time, tree shape, and every row's results under the index's own default beam.</summary>
    /// <summary>A file's bytes; for dataset.json without the recorded modification times, which differ from run to run by design.</summary>
    private static byte[] WithoutTimes(string path, byte[] bytes) =>
        Path.GetFileName(path) == "dataset.json"
            ? System.Text.Encoding.UTF8.GetBytes(string.Join('\n', System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Where(l => !l.Contains("\"modifiedUtcTicks\"", StringComparison.Ordinal))))
            : bytes;

    private static bool SameIndex(string galleryFolder, byte[] a, byte[] b)
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-kill-idx").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "a.gtci"), a);
            File.WriteAllBytes(Path.Combine(dir, "b.gtci"), b);
            using var gallery = GeoDataset.Open(galleryFolder);
            using var x = ClusterIndex.Open(Path.Combine(dir, "a.gtci"), gallery.Image);
            using var y = ClusterIndex.Open(Path.Combine(dir, "b.gtci"), gallery.Image);
            static string Info(string json) => BuildSeconds().Replace(json, "");
            if (Info(x.BuildInfo) != Info(y.BuildInfo) || !x.NodesPerLevel.SequenceEqual(y.NodesPerLevel)) return false;
            var defaults = new SearchOptions { K = 10 }; // each index's calibrated beam: depends on its centroids and tree
            var rx = x.Search(gallery.Image, defaults);
            var ry = y.Search(gallery.Image, defaults);
            return rx.Indices.SequenceEqual(ry.Indices) && rx.Similarities.SequenceEqual(ry.Similarities);
        }
        catch (IndexFormatException)
        {
            return false; // a partial or damaged file
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex(@"""(buildSeconds|created)""\s*:\s*(""[^""]*""|[0-9.eE+-]+)")]
    private static partial Regex BuildSeconds();
}

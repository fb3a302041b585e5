namespace GeoToken.Cli.Tests.Commands;

/// <summary><c>geotoken gallery</c> on the nine real geotagged photos with the real SqueezeNet encoder.</summary>
public sealed class GalleryCommandTests
{
    [Fact]
    public async Task Builds_a_gallery_from_photos_and_rerunning_encodes_nothing_new()
    {
        string dir = CliRunner.TempDir();
        string photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(photos);
        foreach (var f in Directory.GetFiles(CliRunner.OnnxTestData("photos"))) File.Copy(f, Path.Combine(photos, Path.GetFileName(f)));
        await File.WriteAllTextAsync(Path.Combine(photos, "notes.jpg"), "not a photo", TestContext.Current.CancellationToken);
        string[] args = ["gallery", "--photos", photos, "--encoder", CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx"), "--preprocess", "caffe-squeezenet", "--encoder-output", "pool10_flattened", "--out", Path.Combine(dir, "gallery")];

        var first = await CliRunner.RunAsync(args);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("9 photos (9 added", first.Output);
        Assert.Contains("9 encoded", first.Output);
        Assert.Contains("notes.jpg", first.Output); // listed as unusable, not silently dropped
        Assert.Equal(10, File.ReadAllLines(Path.Combine(dir, "gallery", "meta.csv")).Length);

        var second = await CliRunner.RunAsync(args);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("9 unchanged; 0 encoded", second.Output);

        var bad = await CliRunner.RunAsync("gallery", "--photos", photos, "--encoder", Path.Combine(dir, "missing.onnx"), "--out", Path.Combine(dir, "g2"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("missing.onnx", bad.Error);
    }

    [Fact]
    public async Task An_existing_dataset_folder_it_did_not_write_is_refused_and_left_untouched_unless_forced()
    {
        string dir = CliRunner.TempDir();
        string dataset = Path.Combine(dir, "synth-split");
        Directory.CreateDirectory(dataset);
        var files = new Dictionary<string, byte[]>
        {
            ["meta.csv"] = "IMG_ID,LAT,LON\na,1.5,2.5\n"u8.ToArray(),
            ["image.npy"] = [1, 2, 3, 4],
            ["loc.npy"] = [5, 6, 7],
            ["text.npy"] = [8, 9],
        };
        foreach (var (name, bytes) in files) await File.WriteAllBytesAsync(Path.Combine(dataset, name), bytes, TestContext.Current.CancellationToken);
        string[] args = ["gallery", "--photos", CliRunner.OnnxTestData("photos"), "--encoder", CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx"), "--preprocess", "caffe-squeezenet", "--encoder-output", "pool10_flattened", "--out", dataset];

        var refused = await CliRunner.RunAsync(args);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains(dataset, refused.Error);
        Assert.Contains("--force", refused.Error);
        Assert.Equal(files.Keys.Order(), Directory.GetFiles(dataset).Select(Path.GetFileName).Order());
        foreach (var (name, bytes) in files) Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(dataset, name), TestContext.Current.CancellationToken));

        var forced = await CliRunner.RunAsync([.. args, "--force"]);
        Assert.True(forced.ExitCode == 0, forced.Error);
        Assert.Contains("9 photos (9 added", forced.Output);
    }

    [Fact]
    public async Task An_encoder_without_a_float_output_is_one_line_and_exit_1_with_the_stack_only_when_verbose()
    {
        string dir = CliRunner.TempDir();
        string[] args = ["gallery", "--photos", CliRunner.OnnxTestData("photos"), "--encoder", CliRunner.OnnxTestData("models", "squeezenet_snacks.onnx"), "--out", Path.Combine(dir, "g")];

        var r = await CliRunner.RunAsync(args);
        Assert.Equal(1, r.ExitCode);
        string line = Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("squeezenet_snacks.onnx", line);
        Assert.DoesNotContain(" at ", line);

        var verbose = await CliRunner.RunAsync([.. args, "--verbose"]);
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains(" at ", verbose.Error); // the stack trace
    }
}

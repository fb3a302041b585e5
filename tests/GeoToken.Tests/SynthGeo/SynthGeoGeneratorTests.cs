using System.Security.Cryptography;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.SynthGeo;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.SynthGeo;

/// <summary>The SynthGeo generator: determinism, output format, locations and geographic signal.</summary>
public sealed class SynthGeoGeneratorTests
{
    private static SynthGeoOptions Small(string dir, int threads = 2) => new()
    {
        OutputDirectory = dir,
        TrainRows = 1301, // not a multiple of the block size
        TestRows = 40,
        Dimension = 32,
        Modalities = 3,
        Seed = 42,
        MaxDegreeOfParallelism = threads,
    };

    private static Dictionary<string, string> Hashes(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(Content(f))));

    /// <summary>The file's bytes; for dataset.json without the files' modification times (which differ from run to run).</summary>
    private static byte[] Content(string path) =>
        Path.GetFileName(path) == "dataset.json"
            ? System.Text.Encoding.UTF8.GetBytes(string.Join('\n', File.ReadAllLines(path).Where(l => !l.Contains("\"modifiedUtcTicks\"", StringComparison.Ordinal))))
            : File.ReadAllBytes(path);

    /// <summary>The same seed gives bit-identical files with one or two threads; another seed gives other features.</summary>
    [Fact]
    public async Task Output_is_bit_identical_whatever_the_thread_count()
    {
        using var dir = new TempDir();
        await SynthGeoGenerator.GenerateAsync(Small(dir.File("one"), threads: 1), cancellationToken: TestContext.Current.CancellationToken);
        await SynthGeoGenerator.GenerateAsync(Small(dir.File("two"), threads: 2), cancellationToken: TestContext.Current.CancellationToken);
        await SynthGeoGenerator.GenerateAsync(Small(dir.File("other")) with { Seed = 43 }, cancellationToken: TestContext.Current.CancellationToken);
        var one = Hashes(dir.File("one"));
        var two = Hashes(dir.File("two"));
        Assert.Equal(
            ["synthgeo.json", "test/dataset.json", "test/image.npy", "test/latlon.npy", "test/loc.npy", "test/meta.csv", "test/text.npy",
             "train/dataset.json", "train/image.npy", "train/latlon.npy", "train/loc.npy", "train/meta.csv", "train/text.npy"],
            one.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(one, two);
        var other = Hashes(dir.File("other"));
        Assert.NotEqual(one["train/image.npy"], other["train/image.npy"]);
        Assert.NotEqual(one["train/latlon.npy"], other["train/latlon.npy"]);
    }

    /// <summary>Both splits open as datasets: unit-length float16 rows, valid coordinates, three distinct views.</summary>
    [Fact]
    public async Task Splits_are_valid_datasets_of_unit_vectors()
    {
        using var dir = new TempDir();
        var result = await SynthGeoGenerator.GenerateAsync(Small(dir.Path), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1301, result.TrainRows);
        using var train = GeoDataset.Open(result.TrainDirectory);
        using var test = GeoDataset.Open(result.TestDirectory);
        test.CheckCompatibleWith(train);
        Assert.Equal(1301, train.Rows);
        Assert.Equal(40, test.Rows);
        Assert.Equal(32, train.Dimension);
        Assert.Equal(FeatureElementType.Float16, train.Image.ElementType);
        Assert.True(train.UsesCoordinateSidecar);
        Assert.Contains("LOCATABILITY", train.MetaColumns);
        Assert.Contains("SOURCE_ID", test.MetaColumns);

        var row = new float[32];
        var views = new float[3][];
        for (long r = 0; r < train.Rows; r += 97)
        {
            for (int m = 0; m < 3; m++)
            {
                train.GetFeatures(FeatureModalities.All[m]).ReadRow(r, row);
                double norm = Math.Sqrt(row.Sum(v => (double)v * v));
                Assert.InRange(norm, 0.99, 1.01);
                views[m] = (float[])row.Clone();
            }

            Assert.NotEqual(views[0], views[1]);
            Assert.NotEqual(views[0], views[2]);
        }

        train.LoadLocations();
        Assert.Equal("synthgeo-train-00001300", train.GetImageId(1300));
    }

    /// <summary>Every gallery photo lies in an MP-16 cell, and regions receive photos in proportion to MP-16's counts.</summary>
    [Fact]
    public async Task Gallery_follows_the_MP16_cells()
    {
        using var dir = new TempDir();
        var options = Small(dir.Path) with { TrainRows = 6000, Modalities = 1, Dimension = 8 };
        await SynthGeoGenerator.GenerateAsync(options, cancellationToken: TestContext.Current.CancellationToken);
        using var train = GeoDataset.Open(Path.Combine(dir.Path, "train"));
        var cells = BundledGeography.Mp16Cells;
        var byId = cells.Select((c, i) => (c, i)).ToDictionary(x => x.c.Cell, x => x.i);
        var levels = cells.Select(c => c.Cell.Level).Distinct().ToArray();
        var observed = new Dictionary<S2CellId, int>();
        var locations = train.GetLocations(0, (int)train.Rows);
        foreach (var p in locations)
        {
            var leaf = S2CellId.FromLatLng(p);
            int found = -1;
            foreach (int level in levels)
            {
                if (byId.TryGetValue(leaf.Parent(level), out int i))
                {
                    found = i;
                    break;
                }
            }

            Assert.True(found >= 0, $"{p} is in no MP-16 cell");
            var region = cells[found].Cell.Parent(2);
            observed[region] = observed.GetValueOrDefault(region) + 1;
        }

        // Per level-2 region (about 2,300 km): counts within 5 binomial standard deviations of MP-16's share.
        double total = cells.Sum(c => (double)c.Photos);
        foreach (var group in cells.GroupBy(c => c.Cell.Parent(2)))
        {
            double p = group.Sum(c => (double)c.Photos) / total, expected = p * locations.Length, sd = Math.Sqrt(locations.Length * p * (1 - p));
            int count = observed.GetValueOrDefault(group.Key);
            Assert.True(Math.Abs(count - expected) < 5 * sd + 1, $"region {group.Key.ToToken()}: {count} photos, {expected:F1} expected");
        }

        Assert.True(observed.Count > 50, $"only {observed.Count} regions");
    }

    /// <summary>
    /// The embeddings carry geography: nearest-neighbor retrieval beats a random guess from the gallery,
    /// urban test images are located better than indoor ones, and the location view beats the text view.
    /// </summary>
    [Fact]
    public async Task Embeddings_carry_geography()
    {
        using var dir = new TempDir();
        var options = Small(dir.Path) with { TrainRows = 6000, TestRows = 600, Modalities = 3, Dimension = 64 };
        var r = await SynthGeoGenerator.GenerateAsync(options, cancellationToken: TestContext.Current.CancellationToken);
        using var train = GeoDataset.Open(r.TrainDirectory);
        using var test = GeoDataset.Open(r.TestDirectory);
        int n = (int)train.Rows, q = (int)test.Rows, d = train.Dimension;
        int s3 = test.MetaColumns.ToList().IndexOf("S3_Label");

        double[] Accuracy(FeatureModality m)
        {
            var g = new float[n * d];
            var t = new float[q * d];
            train.GetFeatures(m).ReadRows(0, n, g);
            test.GetFeatures(m).ReadRows(0, q, t);
            var hits = new double[3]; // within 2500 km: all, indoor, urban
            var totals = new double[3];
            for (int i = 0; i < q; i++)
            {
                var ti = t.AsSpan(i * d, d);
                int best = 0;
                float bestSim = float.MinValue;
                for (int j = 0; j < n; j++)
                {
                    float sim = System.Numerics.Tensors.TensorPrimitives.Dot(ti, g.AsSpan(j * d, d));
                    if (sim > bestSim) (bestSim, best) = (sim, j);
                }

                bool hit = Geodesy.HaversineKm(test.GetLocation(i), train.GetLocation(best)) <= 2500;
                string type = test.GetMetaRow(i)[s3];
                foreach (int k in type == "0" ? new[] { 0, 1 } : type == "2" ? new[] { 0, 2 } : new[] { 0 })
                {
                    totals[k]++;
                    if (hit) hits[k]++;
                }
            }

            return [hits[0] / totals[0], hits[1] / totals[1], hits[2] / totals[2]];
        }

        // Guessing the location of a random gallery image (the same number of guesses).
        var rng = new Random(1);
        double random = Enumerable.Range(0, q).Count(i => Geodesy.HaversineKm(test.GetLocation(i), train.GetLocation(rng.Next(n))) <= 2500) / (double)q;
        var image = Accuracy(FeatureModality.Image);
        var loc = Accuracy(FeatureModality.Location);
        var text = Accuracy(FeatureModality.Text);
        Assert.True(image[0] > random + 0.06, $"1-NN {image[0]:P1} vs random {random:P1} within 2500 km");
        Assert.True(image[2] > image[1] + 0.1, $"urban {image[2]:P1} vs indoor {image[1]:P1}");
        Assert.True(loc[0] > text[0] + 0.05, $"location view {loc[0]:P1} vs text view {text[0]:P1}");
    }

    /// <summary>Default test locations are IM2GPS3K's: all in file order, a subset in file order, or all then repeats.</summary>
    [Fact]
    public async Task Test_locations_come_from_IM2GPS3K()
    {
        using var dir = new TempDir();
        var im2gps = BundledGeography.Im2Gps3k;
        Assert.Equal(2997, im2gps.Count);
        var ct = TestContext.Current.CancellationToken;

        var all = await SynthGeoGenerator.GenerateAsync(Small(dir.File("all")) with { TrainRows = 10, TestRows = 2997, Modalities = 1, Dimension = 8 }, cancellationToken: ct);
        using (var test = GeoDataset.Open(all.TestDirectory))
        {
            for (int k = 0; k < 2997; k += 50) Assert.Equal(im2gps[k].Location, test.GetLocation(k));
            Assert.Equal(im2gps[2996].ImageId, test.GetMetaRow(2996)[3]);
        }

        var some = await SynthGeoGenerator.GenerateAsync(Small(dir.File("some")) with { TrainRows = 10, TestRows = 100, Modalities = 1, Dimension = 8 }, cancellationToken: ct);
        using (var test = GeoDataset.Open(some.TestDirectory))
        {
            var index = im2gps.Select((r, i) => (r.ImageId, i)).ToDictionary(x => x.ImageId, x => x.i);
            var picked = Enumerable.Range(0, 100).Select(k => index[test.GetMetaRow(k)[3]]).ToArray();
            Assert.Equal(picked.Order(), picked);
            Assert.Equal(100, picked.Distinct().Count());
            for (int k = 0; k < 100; k++) Assert.Equal(im2gps[picked[k]].Location, test.GetLocation(k));
        }

        var more = await SynthGeoGenerator.GenerateAsync(Small(dir.File("more")) with { TrainRows = 10, TestRows = 3100, Modalities = 1, Dimension = 8 }, cancellationToken: ct);
        using (var test = GeoDataset.Open(more.TestDirectory))
        {
            Assert.Equal(3100, test.Rows);
            Assert.Equal(im2gps[1234].Location, test.GetLocation(1234));
            var known = im2gps.Select(r => r.Location).ToHashSet();
            for (int k = 2997; k < 3100; k++) Assert.Contains(test.GetLocation(k), known);
        }
    }

    /// <summary>Any CSV with latitude/longitude columns (any spelling and case) gives the test locations; bad rows are named.</summary>
    [Fact]
    public async Task Test_locations_from_a_csv()
    {
        using var dir = new TempDir();
        var ct = TestContext.Current.CancellationToken;
        File.WriteAllText(dir.File("places.csv"), "name,Latitude,LNG\nparis,48.8566,2.3522\nsydney,-33.8688,151.2093\nquito,-0.1807,-78.4678\n");
        var r = await SynthGeoGenerator.GenerateAsync(Small(dir.File("out")) with { TrainRows = 10, TestRows = 3, Modalities = 1, Dimension = 8, TestLocationsCsv = dir.File("places.csv") }, cancellationToken: ct);
        using (var test = GeoDataset.Open(r.TestDirectory))
        {
            Assert.Equal(new LatLng(-33.8688, 151.2093), test.GetLocation(1));
            Assert.Equal("2", test.GetMetaRow(1)[3]); // no id column: the CSV row number
        }

        File.WriteAllText(dir.File("bad.csv"), "lat,lon\n10,20\n10,200\n");
        var e = await Assert.ThrowsAsync<CsvFormatException>(() =>
            SynthGeoGenerator.GenerateAsync(Small(dir.File("bad")) with { TrainRows = 10, TestRows = 3, TestLocationsCsv = dir.File("bad.csv") }, cancellationToken: ct));
        Assert.Contains("bad.csv, row 2, column 'lon'", e.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("nolat.csv"), "y,x\n10,20\n");
        e = await Assert.ThrowsAsync<CsvFormatException>(() =>
            SynthGeoGenerator.GenerateAsync(Small(dir.File("nolat")) with { TrainRows = 10, TestRows = 3, TestLocationsCsv = dir.File("nolat.csv") }, cancellationToken: ct));
        Assert.Contains("no latitude column", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Cancelling stops the generation and leaves no dataset files behind.</summary>
    [Fact]
    public async Task Cancellation_discards_partial_files()
    {
        using var dir = new TempDir();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new SyncProgress(p =>
        {
            if (p.RowsDone > 0) cts.Cancel();
        });
        var options = Small(dir.Path) with { TrainRows = 2_000_000, Modalities = 1, Dimension = 16, MaxDegreeOfParallelism = 1 };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SynthGeoGenerator.GenerateAsync(options, progress, cts.Token));
        string train = Path.Combine(dir.Path, "train");
        Assert.True(!Directory.Exists(train) || Directory.GetFiles(train).Length == 0, string.Join(", ", Directory.Exists(train) ? Directory.GetFiles(train) : []));
    }

    /// <summary>Bad options are rejected, naming the option.</summary>
    [Fact]
    public async Task Bad_options_are_named()
    {
        using var dir = new TempDir();
        var ct = TestContext.Current.CancellationToken;
        var e = await Assert.ThrowsAsync<ArgumentException>(() => SynthGeoGenerator.GenerateAsync(Small(dir.Path) with { Modalities = 2 }, cancellationToken: ct));
        Assert.Contains("Modalities is 2", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<ArgumentException>(() => SynthGeoGenerator.GenerateAsync(Small(dir.Path) with { TrainRows = 0 }, cancellationToken: ct));
        Assert.Contains("TrainRows", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<ArgumentException>(() => SynthGeoGenerator.GenerateAsync(Small(dir.Path) with { Model = SynthGeoModel.Default with { LatentDimension = 100 } }, cancellationToken: ct));
        Assert.Contains("LatentDimension 100", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<FileNotFoundException>(() => SynthGeoGenerator.GenerateAsync(Small(dir.Path) with { TestLocationsCsv = dir.File("missing.csv") }, cancellationToken: ct));
    }

    /// <summary>Model parameters round-trip through JSON; bad values are named.</summary>
    [Fact]
    public void Model_parameters_round_trip_through_json()
    {
        var model = SynthGeoModel.Default with { HotspotProbability = 0.5, CellLevels = [3, 9], CellLevelWeights = [[1, 2], [3, 4], [5, 6]] };
        var back = SynthGeoModel.FromJson(model.ToJson());
        Assert.Equal(0.5, back.HotspotProbability);
        Assert.Equal([3, 9], back.CellLevels);
        Assert.Equal(6, back.CellLevelWeights[2][1]);
        Assert.Equal(model.ImageView, back.ImageView);
        Assert.Equal(SynthGeoModel.Default.LatentDimension, SynthGeoModel.FromJson("{\"HotspotProbability\": 0.25}").LatentDimension);
        var e = Assert.Throws<ArgumentException>(() => SynthGeoModel.FromJson("{\"hotspotProbability\": 1.5}"));
        Assert.Contains("HotspotProbability 1.5", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => SynthGeoModel.FromJson("{\"hotspotProbabilty\": 0.5}"));
        Assert.Contains("'hotspotProbabilty' is not a SynthGeo model parameter", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Progress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<SynthGeoProgress> report) : IProgress<SynthGeoProgress>
    {
        public void Report(SynthGeoProgress value) => report(value);
    }
}

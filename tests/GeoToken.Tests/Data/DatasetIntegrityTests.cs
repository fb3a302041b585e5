using System.Text.Json.Nodes;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Data;

/// <summary>dataset.json's content hashes: edits are refused on open, re-derived by Rehash; old manifests; repeated ids.</summary>
public sealed class DatasetIntegrityTests
{
    private const int Dim = 8;

    private static void Write(string folder, int n, int seed = 1, bool text = false)
    {
        var rng = new Random(seed);
        using var w = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions { ImageDimension = Dim, TextDimension = text ? 4 : null, ElementType = FeatureElementType.Float32 });
        for (int k = 0; k < n; k++)
        {
            var f = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() + 0.1)).ToArray();
            w.WriteRow($"img_{k:D5}.jpg", new LatLng(49.38 - (k % 100) * 0.01, 2.5 + (k % 100) * 0.01), f, default, text ? f.AsSpan(0, 4) : default);
        }

        w.Commit();
    }

    /// <summary>The defect: one LAT edited in place (same length, even to an invalid 99.38) was not noticed; coordinates still came from latlon.npy.</summary>
    [Fact]
    public void Same_length_edit_of_meta_csv_is_refused_naming_the_file_and_the_fix()
    {
        using var dir = new TempDir();
        Write(dir.Path, 10);
        string meta = dir.File("meta.csv");
        long length = new FileInfo(meta).Length;
        string text = File.ReadAllText(meta);
        Assert.Contains("img_00003.jpg,49.35,", text, StringComparison.Ordinal);
        File.WriteAllText(meta, text.Replace("img_00003.jpg,49.35,", "img_00003.jpg,99.35,", StringComparison.Ordinal));
        Assert.Equal(length, new FileInfo(meta).Length);

        var e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains(meta, e.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Contains($"geotoken dataset rehash {dir.Path}", e.Message, StringComparison.Ordinal);

        // Re-deriving validates the CSV: the invalid latitude is refused with its 1-based row.
        var bad = Assert.Throws<GeoDatasetException>(() => GeoDatasetWriter.Rehash(dir.Path, TestContext.Current.CancellationToken));
        Assert.Contains("row 4, column 'LAT': latitude 99.35 is outside [-90, 90]", bad.Message, StringComparison.Ordinal);

        // An intended, valid edit: rehash accepts it and the sidecar is rewritten from the CSV.
        File.WriteAllText(meta, text.Replace("img_00003.jpg,49.35,", "img_00003.jpg,12.35,", StringComparison.Ordinal));
        Assert.Equal(10, GeoDatasetWriter.Rehash(dir.Path, TestContext.Current.CancellationToken));
        using var ds = GeoDataset.Open(dir.Path);
        Assert.True(ds.UsesCoordinateSidecar);
        Assert.Equal(DatasetIntegrity.Checked, ds.Integrity);
        Assert.Equal(12.35, ds.GetLocation(3).Latitude);
    }

    [Fact]
    public void Edited_coordinate_sidecar_is_refused()
    {
        using var dir = new TempDir();
        Write(dir.Path, 10);
        var bytes = File.ReadAllBytes(dir.File("latlon.npy"));
        bytes[^9] ^= 0x01; // a bit of the last latitude's mantissa: still a valid coordinate
        File.WriteAllBytes(dir.File("latlon.npy"), bytes);
        var e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains(dir.File("latlon.npy"), e.Message, StringComparison.Ordinal);
        Assert.Contains("modified after the dataset was written", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Feature files get the cheap check: size, head and tail, and a full hash when their time changed; Verify hashes in full.</summary>
    [Fact]
    public void Feature_files_are_checked_cheaply_and_in_full_with_verify()
    {
        using var dir = new TempDir();
        Write(dir.Path, 100_000 / Dim / 4 * 30); // ≈ 3 MB of float32: longer than head + tail
        string image = dir.File("image.npy");
        Assert.True(new FileInfo(image).Length > 2L * FileHash.HeadTailBlockBytes);
        var time = File.GetLastWriteTimeUtc(image);
        var bytes = File.ReadAllBytes(image);
        long middle = bytes.Length / 2;

        // A middle edit that keeps the time: the cheap check cannot see it (documented), Verify does.
        bytes[middle] ^= 0x40;
        File.WriteAllBytes(image, bytes);
        File.SetLastWriteTimeUtc(image, time);
        using (var ds = GeoDataset.Open(dir.Path)) Assert.Equal(DatasetIntegrity.Checked, ds.Integrity);
        var e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(new GeoDatasetOptions { Folder = dir.Path, Verify = true }));
        Assert.Contains(image, e.Message, StringComparison.Ordinal);

        // The same edit with a new time: the changed time makes the open hash the file in full.
        File.SetLastWriteTimeUtc(image, time.AddSeconds(5));
        e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains(image, e.Message, StringComparison.Ordinal);

        // Undo the edit with the new time (a copy without preserved times): same content, accepted.
        bytes[middle] ^= 0x40;
        File.WriteAllBytes(image, bytes);
        File.SetLastWriteTimeUtc(image, time.AddSeconds(5));
        using (var ds = GeoDataset.Open(dir.Path)) Assert.Equal(DatasetIntegrity.Checked, ds.Integrity);

        // An edit near the start keeping the time: the head hash sees it.
        bytes[200] ^= 0x40;
        File.WriteAllBytes(image, bytes);
        File.SetLastWriteTimeUtc(image, time);
        e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains("first and last MiB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_feature_file_added_later_or_removed_is_refused()
    {
        using var dir = new TempDir();
        Write(dir.Path, 12);
        NpyFile.Write(dir.File("text.npy"), new float[12 * 4], 4);
        var e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains("text.npy is not one of the files", e.Message, StringComparison.Ordinal);
        File.Delete(dir.File("text.npy"));

        Write(dir.Path, 12, text: true);
        File.Delete(dir.File("text.npy"));
        e = Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains("text.npy is missing", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A version-1 manifest (no hashes) still opens, but its sidecar is not trusted: coordinates come from the CSV.</summary>
    [Fact]
    public void Old_manifest_opens_without_trusting_the_sidecar()
    {
        using var dir = new TempDir();
        Write(dir.Path, 10);
        var json = JsonNode.Parse(File.ReadAllText(dir.File("dataset.json")))!.AsObject();
        json["version"] = 1;
        json.Remove("files");
        File.WriteAllText(dir.File("dataset.json"), json.ToJsonString());
        // A stale sidecar: the CSV says otherwise.
        string meta = dir.File("meta.csv");
        File.WriteAllText(meta, File.ReadAllText(meta).Replace("img_00003.jpg,49.35,", "img_00003.jpg,11.35,", StringComparison.Ordinal));

        using (var ds = GeoDataset.Open(dir.Path))
        {
            Assert.Equal(DatasetIntegrity.NoHashes, ds.Integrity);
            Assert.False(ds.UsesCoordinateSidecar);
            Assert.Equal(11.35, ds.GetLocation(3).Latitude);
        }

        GeoDatasetWriter.Rehash(dir.Path, TestContext.Current.CancellationToken);
        using var again = GeoDataset.Open(dir.Path);
        Assert.Equal(DatasetIntegrity.Checked, again.Integrity);
        Assert.True(again.UsesCoordinateSidecar);
        Assert.Equal(11.35, again.GetLocation(3).Latitude);
    }

    /// <summary>Bad sidecar values are reported with the same row numbers as CSV errors: from 1, with the 0-based index.</summary>
    [Fact]
    public void Bad_sidecar_value_is_reported_with_a_one_based_row()
    {
        using var dir = new TempDir();
        Write(dir.Path, 10);
        var coords = NpyFile.ReadAll<double>(dir.File("latlon.npy"));
        coords[2 * 5] = 99.38;
        NpyFile.Write(dir.File("latlon.npy"), coords, 2);
        // Record the edited sidecar as if it had been written so (a writer bug, a crafted file).
        var json = JsonNode.Parse(File.ReadAllText(dir.File("dataset.json")))!.AsObject();
        foreach (var f in json["files"]!.AsArray())
        {
            if ((string?)f!["name"] != "latlon.npy") continue;
            f["sha256"] = FileHash.Sha256(dir.File("latlon.npy"), TestContext.Current.CancellationToken);
            f["headTailSha256"] = FileHash.HeadTailSha256(dir.File("latlon.npy"));
            f["modifiedUtcTicks"] = File.GetLastWriteTimeUtc(dir.File("latlon.npy")).Ticks;
        }

        File.WriteAllText(dir.File("dataset.json"), json.ToJsonString());
        using var ds = GeoDataset.Open(dir.Path);
        var e = Assert.Throws<GeoDatasetException>(ds.LoadLocations);
        Assert.Contains("row 6 (index 5): latitude 99.38", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_image_ids_are_refused_with_both_rows()
    {
        using var dir = new TempDir();
        using (var w = GeoDatasetWriter.Create(dir.Path, new GeoDatasetWriterOptions { ImageDimension = 2 }))
        {
            w.WriteRow("a.jpg", new LatLng(1, 2), [1, 0]);
            w.WriteRow("b.jpg", new LatLng(1, 2), [1, 0]);
            w.WriteRow("c.jpg", new LatLng(1, 2), [1, 0]);
            var e = Assert.Throws<ArgumentException>(() => w.WriteRows(["d.jpg", "b.jpg"], [new LatLng(1, 2), new LatLng(3, 4)], new float[] { 1, 0, 0, 1 }, default, default, default));
            Assert.Contains("image id 'b.jpg' of row 5 repeats row 2", e.Message, StringComparison.Ordinal);
            w.WriteRow("d.jpg", new LatLng(1, 2), [1, 0]); // the refused block left nothing behind
            w.Commit();
        }

        using (var ds = GeoDataset.Open(dir.Path)) Assert.Equal(["a.jpg", "b.jpg", "c.jpg", "d.jpg"], ds.ReadImageIds());

        // Files made elsewhere: Verify and Rehash read every id.
        File.Delete(dir.File("dataset.json"));
        File.WriteAllText(dir.File("meta.csv"), "IMG_ID,LAT,LON\na.jpg,1,2\nb.jpg,1,2\na.jpg,1,2\nd.jpg,1,2\n");
        var v = Assert.Throws<GeoDatasetException>(() => GeoDataset.Open(new GeoDatasetOptions { Folder = dir.Path, Verify = true }));
        Assert.Contains("image id 'a.jpg' of row 3 repeats row 1", v.Message, StringComparison.Ordinal);
        Assert.Throws<GeoDatasetException>(() => GeoDatasetWriter.Rehash(dir.Path, TestContext.Current.CancellationToken));
    }
}

using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Tests.Support;
using GeoToken.Tokens;

namespace GeoToken.Tests.Data;

/// <summary>Dataset folders: writing, opening, coordinates, ids, validation.</summary>
public sealed class GeoDatasetTests
{
    private const int Dim = 8;

    private static (string[] Ids, LatLng[] Locations, float[] Image, float[] Loc, float[] Text, string[] Extra) MakeRows(int n, int seed)
    {
        var rng = new Random(seed);
        var ids = Enumerable.Range(0, n).Select(k => k switch
        {
            1 => "with,comma.jpg",
            2 => "with \"quotes\".jpg",
            3 => "line\nbreak.jpg",
            _ => $"img_{k:D5}.jpg",
        }).ToArray();
        var locs = Enumerable.Range(0, n).Select(k => k switch
        {
            0 => new LatLng(90, 180),
            4 => new LatLng(-90, -180),
            _ => new LatLng(rng.NextDouble() * 180 - 90, rng.NextDouble() * 360 - 180),
        }).ToArray();
        float[] F(int d) => Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var extra = Enumerable.Range(0, n).SelectMany(k => new[] { $"author{k % 3}", k % 2 == 0 ? "indoor" : "urban, street" }).ToArray();
        return (ids, locs, F(Dim), F(4), F(6), extra);
    }

    private static void WriteDataset(string folder, int n, int seed, bool threeModalities = true, bool sidecar = true, FeatureElementType type = FeatureElementType.Float16)
    {
        var (ids, locs, image, loc, text, extra) = MakeRows(n, seed);
        using var w = GeoDatasetWriter.Create(folder, new GeoDatasetWriterOptions
        {
            ImageDimension = Dim,
            LocationDimension = threeModalities ? 4 : null,
            TextDimension = threeModalities ? 6 : null,
            ExtraColumns = ["AUTHOR", "SCENE"],
            ElementType = type,
            WriteCoordinateSidecar = sidecar,
        });
        // Two uneven blocks, then single rows.
        int a = n / 3;
        w.WriteRows(ids.AsSpan(0, a), locs.AsSpan(0, a), image.AsSpan(0, a * Dim), threeModalities ? loc.AsSpan(0, a * 4) : default, threeModalities ? text.AsSpan(0, a * 6) : default, extra.AsSpan(0, a * 2));
        for (int k = a; k < n; k++)
        {
            w.WriteRow(ids[k], locs[k], image.AsSpan(k * Dim, Dim), threeModalities ? loc.AsSpan(k * 4, 4) : default, threeModalities ? text.AsSpan(k * 6, 6) : default, extra.AsSpan(k * 2, 2));
        }

        w.Commit();
    }

    /// <summary>Everything written comes back: features of all modalities, coordinates, ids, extra columns and tokens.</summary>
    [Theory]
    [InlineData(true, FeatureElementType.Float16)]
    [InlineData(false, FeatureElementType.Float32)]
    public void Written_dataset_reads_back(bool sidecar, FeatureElementType type)
    {
        using var dir = new TempDir();
        const int n = 50;
        WriteDataset(dir.Path, n, seed: 1, sidecar: sidecar, type: type);
        var (ids, locs, image, loc, text, extra) = MakeRows(n, 1);

        using var ds = GeoDataset.Open(dir.Path);
        Assert.Equal(n, ds.Rows);
        Assert.Equal(Dim, ds.Dimension);
        Assert.Equal([FeatureModality.Image, FeatureModality.Location, FeatureModality.Text], ds.Modalities);
        Assert.Equal(sidecar, ds.UsesCoordinateSidecar);
        Assert.Equal(["IMG_ID", "LAT", "LON", "AUTHOR", "SCENE"], ds.MetaColumns);
        Assert.Equal(type, ds.Image.ElementType);

        float Round(float v) => type == FeatureElementType.Float16 ? (float)(Half)v : v;
        var buf = new float[n * Dim];
        ds.Image.ReadRows(0, n, buf);
        Assert.Equal(image.Select(Round), buf[..(n * Dim)]);
        ds.GetFeatures(FeatureModality.Location).ReadRows(0, n, buf);
        Assert.Equal(loc.Select(Round), buf[..(n * 4)]);
        ds.GetFeatures(FeatureModality.Text).ReadRows(0, n, buf);
        Assert.Equal(text.Select(Round), buf[..(n * 6)]);

        Assert.Equal(locs, ds.GetLocations(0, n).ToArray());
        Assert.Equal(locs[17], ds.GetLocation(17));
        Assert.Equal(ids[3], ds.GetImageId(3));
        Assert.Equal(ids[2], ds.GetImageId(2));
        Assert.Equal(ids, ds.ReadImageIds());
        Assert.Equal(["with,comma.jpg", locs[1].Latitude.ToString("R", System.Globalization.CultureInfo.InvariantCulture), locs[1].Longitude.ToString("R", System.Globalization.CultureInfo.InvariantCulture), extra[2], extra[3]], ds.GetMetaRow(1));

        var tokenizer = new GeoTokenizer();
        var tokens = new int[n * tokenizer.Length];
        ds.GetTokens(0, n, tokenizer, tokens);
        for (int k = 0; k < n; k++)
        {
            var expected = new int[tokenizer.Length];
            tokenizer.Encode(locs[k], expected);
            Assert.Equal(expected, tokens.AsSpan(k * tokenizer.Length, tokenizer.Length).ToArray());
        }

        Assert.Equal(S2CellId.FromLatLng(locs[9]), ds.GetCell(9));
    }

    /// <summary>An edited meta.csv no longer matches dataset.json: opening refuses it (with or without the sidecar) until it is re-derived.</summary>
    [Fact]
    public void Edited_meta_csv_is_refused_until_rehashed()
    {
        using var dir = new TempDir();
        WriteDataset(dir.Path, 10, seed: 2);
        string meta = dir.File("meta.csv");
        var lines = File.ReadAllLines(meta);
        int line = Array.FindIndex(lines, l => l.StartsWith("img_00005.jpg,", StringComparison.Ordinal));
        var f = CsvRowIndex.Split(lines[line]);
        lines[line] = $"{f[0]},12.5,-7.25,{f[3]},\"{f[4]}\"";
        File.WriteAllLines(meta, lines);

        Assert.Contains("meta.csv has", Assert.Throws<InvalidDataException>(() => GeoDataset.Open(dir.Path)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => GeoDataset.Open(new GeoDatasetOptions { Folder = dir.Path, UseCoordinateSidecar = false }));

        GeoDatasetWriter.Rehash(dir.Path, TestContext.Current.CancellationToken);
        using var ds = GeoDataset.Open(dir.Path);
        Assert.True(ds.UsesCoordinateSidecar);
        Assert.Equal(new LatLng(12.5, -7.25), ds.GetLocation(5));
        using var csvOnly = GeoDataset.Open(new GeoDatasetOptions { Folder = dir.Path, UseCoordinateSidecar = false });
        Assert.False(csvOnly.UsesCoordinateSidecar);
        Assert.Equal(new LatLng(12.5, -7.25), csvOnly.GetLocation(5));
    }

    /// <summary>Every bad coordinate row is reported with its row number, on first access, not at open.</summary>
    [Fact]
    public void Bad_coordinates_are_all_reported_by_row()
    {
        using var dir = new TempDir();
        NpyFile.Write(dir.File("image.npy"), new float[7 * 3], 3);
        File.WriteAllText(dir.File("meta.csv"), """
            IMG_ID,LAT,LON
            a.jpg,10,20
            b.jpg,nan,20
            c.jpg,95.5,20
            d.jpg,10,-180.01
            e.jpg,10
            f.jpg,north,20
            g.jpg,-90,180

            """);
        using var ds = GeoDataset.Open(dir.Path); // opening does not read the rows
        var e = Assert.Throws<GeoDatasetException>(() => ds.GetLocation(0));
        Assert.Equal(5, e.TotalProblems);
        Assert.Contains("meta.csv: 5 bad rows", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 2, column 'LAT': 'nan' is not a finite number", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 3, column 'LAT': latitude 95.5 is outside [-90, 90]", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 4, column 'LON': longitude -180.01 is outside [-180, 180]", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 5: has 2 fields; the header has 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("row 6, column 'LAT': 'north' is not a finite number", e.Message, StringComparison.Ordinal);
        Assert.Throws<GeoDatasetException>(ds.LoadLocations);
    }

    /// <summary>The CSV's row count must equal the features'.</summary>
    [Fact]
    public void Row_count_mismatch_with_meta_csv_is_reported()
    {
        using var dir = new TempDir();
        NpyFile.Write(dir.File("image.npy"), new float[4 * 3], 3);
        File.WriteAllText(dir.File("meta.csv"), "IMG_ID,LAT,LON\na,1,2\nb,3,4\nc,5,6\n");
        using var ds = GeoDataset.Open(dir.Path);
        var e = Assert.Throws<GeoDatasetException>(ds.LoadLocations);
        Assert.Contains("3 data rows, but", e.Message, StringComparison.Ordinal);
        Assert.Contains("image.npy has 4 rows", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<GeoDatasetException>(() => ds.GetImageId(0));
        Assert.Contains("has 3 data rows but", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<GeoDatasetException>(() => ds.ReadImageIds().ToList());
        Assert.Contains("has 3 data rows but", e.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("meta.csv"), "IMG_ID,LAT,LON\na,1,2\nb,3,4\nc,5,6\nd,7,8\ne,9,10\n");
        using var ds2 = GeoDataset.Open(dir.Path);
        e = Assert.Throws<GeoDatasetException>(ds2.LoadLocations);
        Assert.Contains("5 data rows", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Modalities must agree in row count; the manifest must agree with the features.</summary>
    [Fact]
    public void Modalities_and_manifest_must_agree()
    {
        using var dir = new TempDir();
        WriteDataset(dir.Path, 12, seed: 3);
        NpyFile.Write(dir.File("loc.npy"), new float[11 * 4], 4);
        var e = Assert.Throws<GeoDatasetException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains("loc.npy has 11 rows", e.Message, StringComparison.Ordinal);
        Assert.Contains("image.npy has 12", e.Message, StringComparison.Ordinal);

        File.Delete(dir.File("loc.npy"));
        NpyFile.Write(dir.File("image.npy"), new float[13 * Dim], Dim);
        NpyFile.Write(dir.File("text.npy"), new float[13 * 6], 6);
        e = Assert.Throws<GeoDatasetException>(() => GeoDataset.Open(dir.Path));
        Assert.Contains("dataset.json records 12 rows", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Files in other layouts are opened in place: any names, any folders, custom columns.</summary>
    [Fact]
    public void Explicit_paths_and_columns_open_files_in_place()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("feats"));
        Directory.CreateDirectory(dir.File("meta"));
        NpyFile.Write(dir.File("feats/mp16_raw_image_feats.npy"), Enumerable.Range(0, 3 * 5).Select(k => (float)k).ToArray(), 5);
        File.WriteAllText(dir.File("meta/MP16_Pro_filtered.csv"),
            "IMG_ID,AUTHOR,LAT,LON,city\n10_a.jpg,x,48.85,2.35,Paris\n11_b.jpg,y,-33.86,151.2,Sydney\n12_c.jpg,z,40.7,-74,New York\n");
        using var ds = GeoDataset.Open(new GeoDatasetOptions
        {
            Folder = dir.Path,
            MetaFile = "meta/MP16_Pro_filtered.csv",
            ImageFeatures = "feats/mp16_raw_image_feats.npy",
        });
        Assert.Equal(3, ds.Rows);
        Assert.Equal(5, ds.Dimension);
        Assert.Equal([FeatureModality.Image], ds.Modalities);
        Assert.Equal(new LatLng(-33.86, 151.2), ds.GetLocation(1));
        Assert.Equal("12_c.jpg", ds.GetImageId(2));
        Assert.Equal("Sydney", ds.GetMetaRow(1)[4]);
        Assert.False(ds.Has(FeatureModality.Text));
        var ex = Assert.Throws<InvalidOperationException>(() => ds.GetFeatures(FeatureModality.Text));
        Assert.Contains("no Text features", ex.Message, StringComparison.Ordinal);

        // Custom column names; a named optional modality must exist.
        File.WriteAllText(dir.File("meta/other.csv"), "photo,Latitude,LNG\np1,1,2\np2,3,4\np3,5,6\n");
        using var custom = GeoDataset.Open(new GeoDatasetOptions
        {
            Folder = dir.Path,
            MetaFile = "meta/other.csv",
            ImageFeatures = "feats/mp16_raw_image_feats.npy",
            IdColumns = ["photo"],
        });
        Assert.Equal(new LatLng(5, 6), custom.GetLocation(2));
        Assert.Equal("p2", custom.GetImageId(1));
        Assert.Throws<FileNotFoundException>(() => GeoDataset.Open(new GeoDatasetOptions
        {
            Folder = dir.Path,
            MetaFile = "meta/other.csv",
            ImageFeatures = "feats/mp16_raw_image_feats.npy",
            TextFeatures = "feats/missing_text.npy",
        }));

        File.WriteAllText(dir.File("meta/nolat.csv"), "IMG_ID,y,x\na,1,2\nb,1,2\nc,1,2\n");
        var csvError = Assert.Throws<CsvFormatException>(() => GeoDataset.Open(new GeoDatasetOptions
        {
            Folder = dir.Path,
            MetaFile = "meta/nolat.csv",
            ImageFeatures = "feats/mp16_raw_image_feats.npy",
        }));
        Assert.Contains("no latitude column", csvError.Message, StringComparison.Ordinal);
        Assert.Contains("IMG_ID, y, x", csvError.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("meta/noid.csv"), "lat,lon\n1,2\n1,2\n1,2\n");
        using var noId = GeoDataset.Open(new GeoDatasetOptions { Folder = dir.Path, MetaFile = "meta/noid.csv", ImageFeatures = "feats/mp16_raw_image_feats.npy" });
        Assert.False(noId.HasImageIds);
        Assert.Throws<InvalidOperationException>(() => noId.GetImageId(0));
    }

    /// <summary>An abandoned writer leaves the previous dataset intact; a new dataset removes modality files it does not have.</summary>
    [Fact]
    public void Writes_are_atomic_and_stale_files_are_removed()
    {
        using var dir = new TempDir();
        WriteDataset(dir.Path, 20, seed: 4);
        var before = Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)).Order().ToArray();
        Assert.Equal(["dataset.json", "image.npy", "latlon.npy", "loc.npy", "meta.csv", "text.npy"], before);

        using (var w = GeoDatasetWriter.Create(dir.Path, new GeoDatasetWriterOptions { ImageDimension = Dim }))
        {
            w.WriteRow("x", new LatLng(1, 2), new float[Dim]);
        }

        Assert.Equal(before, Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)).Order().ToArray());
        using (var ds = GeoDataset.Open(dir.Path))
        {
            Assert.Equal(20, ds.Rows);
        }

        WriteDataset(dir.Path, 7, seed: 5, threeModalities: false);
        Assert.Equal(["dataset.json", "image.npy", "latlon.npy", "meta.csv"], Directory.GetFiles(dir.Path).Select(f => Path.GetFileName(f)).Order().ToArray());
        using var again = GeoDataset.Open(dir.Path);
        Assert.Equal(7, again.Rows);
        Assert.Equal([FeatureModality.Image], again.Modalities);

        using var w2 = GeoDatasetWriter.Create(dir.File("other"), new GeoDatasetWriterOptions { ImageDimension = Dim, ExpectedRows = 2 });
        w2.WriteRow("x", new LatLng(1, 2), new float[Dim]);
        Assert.Throws<InvalidOperationException>(w2.Commit);
        Assert.False(File.Exists(dir.File("other/meta.csv")));
        Assert.Empty(Directory.GetFiles(dir.File("other")));
    }

    /// <summary>Block shapes are checked, naming what is wrong.</summary>
    [Fact]
    public void Writer_checks_block_shapes()
    {
        using var dir = new TempDir();
        using var w = GeoDatasetWriter.Create(dir.Path, new GeoDatasetWriterOptions { ImageDimension = 4, TextDimension = 2, ExtraColumns = ["A"] });
        var e = Assert.Throws<ArgumentException>(() => w.WriteRows(["a", "b"], [default, default], new float[8], default, new float[3], ["1", "2"]));
        Assert.Contains("text features holds 3 values; 2 rows need 4", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => w.WriteRows(["a"], [default], new float[4], default, new float[2], default(ReadOnlySpan<string>)));
        Assert.Contains("extra fields", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => GeoDatasetWriter.Create(dir.File("x"), new GeoDatasetWriterOptions { ImageDimension = 4, ExtraColumns = ["lat"] }));
    }

    /// <summary>Query and gallery datasets must share modalities and dimensions.</summary>
    [Fact]
    public void Compatibility_check_names_the_difference()
    {
        using var dir = new TempDir();
        WriteDataset(dir.File("a"), 5, seed: 6);
        WriteDataset(dir.File("b"), 9, seed: 7);
        WriteDataset(dir.File("c"), 5, seed: 8, threeModalities: false);
        using var a = GeoDataset.Open(dir.File("a"));
        using var b = GeoDataset.Open(dir.File("b"));
        using var c = GeoDataset.Open(dir.File("c"));
        a.CheckCompatibleWith(b);
        var e = Assert.Throws<GeoDatasetException>(() => a.CheckCompatibleWith(c));
        Assert.Contains("Image (8-d), Location (4-d), Text (6-d)", e.Message, StringComparison.Ordinal);
        Assert.Contains("has Image (8-d).", e.Message, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.IO;

namespace GeoToken.SynthGeo;

/// <summary>
/// Generates a SynthGeo benchmark: <c>OUT/train</c> (the gallery / training set, at MP-16's real photo
/// density) and <c>OUT/test</c> (by default at IM2GPS3K's 2,997 real test locations), each a
/// <see cref="GeoDataset"/> folder of CLIP-like unit embeddings whose geography behaves like real
/// geo-aligned image features, plus <c>OUT/synthgeo.json</c> recording the settings. The generative model
/// is described in <c>docs/synthgeo.md</c>.
/// </summary>
/// <remarks>
/// Deterministic: the same options give bit-identical files whatever <see cref="SynthGeoOptions.MaxDegreeOfParallelism"/>
/// is (every row draws from its own seeded generator; on the same platform, since position math uses the
/// runtime's sin/cos). Streaming: memory is bounded by a few blocks of rows per worker.
/// </remarks>
public static class SynthGeoGenerator
{
    /// <summary>Rows per work item.</summary>
    internal const int BlockRows = 256;

    private const ulong SplitTrain = 1, SplitTest = 2;
    private static readonly string[] TrainExtras = ["S3_Label", "S365_Label", "LOCATABILITY", "LANDMARK", "SERIES"];
    private static readonly string[] TestExtras = ["SOURCE_ID", "AUTHOR", "S3_Label", "S365_Label", "LOCATABILITY", "LANDMARK", "SERIES"];

    /// <summary>Generates the benchmark described by <paramref name="options"/>.</summary>
    /// <param name="options">What to generate.</param>
    /// <param name="progress">Receives progress after every few blocks of rows.</param>
    /// <param name="cancellationToken">Cancels the generation; dataset files being written are then discarded.</param>
    /// <exception cref="ArgumentException">Invalid options (the message names the option).</exception>
    /// <exception cref="CsvFormatException">The test-locations CSV lacks a column or holds a bad value.</exception>
    public static Task<SynthGeoResult> GenerateAsync(SynthGeoOptions options, IProgress<SynthGeoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Task.Run(() => Generate(options, progress, cancellationToken), cancellationToken);
    }

    private static SynthGeoResult Generate(SynthGeoOptions options, IProgress<SynthGeoProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var source = options.TestLocationsCsv is null ? TestLocations.Im2Gps3k() : TestLocations.FromCsv(options.TestLocationsCsv);
        var tests = TestLocations.Choose(source, options.TestRows, options.Seed);
        var world = new SynthGeoWorld(options.Model, options.Seed, options.Dimension, options.Modalities);
        var rows = new RowGenerator(world);
        string root = Path.GetFullPath(options.OutputDirectory);
        string trainDir = Path.Combine(root, "train"), testDir = Path.Combine(root, "test");
        Directory.CreateDirectory(root);

        WriteSplit(options, world, rows, "train", trainDir, options.TrainRows, SplitTrain, TrainExtras, progress, ct,
            row => (rows.Gallery(row), null));
        WriteSplit(options, world, rows, "test", testDir, tests.Length, SplitTest, TestExtras, progress, ct,
            row => (rows.Test(row, tests[row]), tests[row]));

        WriteSettings(Path.Combine(root, "synthgeo.json"), options);
        return new SynthGeoResult(trainDir, testDir, options.TrainRows, tests.Length, clock.Elapsed);
    }

    private static void WriteSplit(
        SynthGeoOptions options, SynthGeoWorld world, RowGenerator rows, string split, string dir, long total, ulong splitTag,
        string[] extras, IProgress<SynthGeoProgress>? progress, CancellationToken ct, Func<long, (RowSpec Spec, TestLocation? Test)> sample)
    {
        int m = options.Modalities;
        using var writer = GeoDatasetWriter.Create(dir, new GeoDatasetWriterOptions
        {
            ElementType = options.ElementType,
            ImageDimension = options.Dimension,
            LocationDimension = m == 3 ? options.Dimension : null,
            TextDimension = m == 3 ? options.Dimension : null,
            ExtraColumns = extras,
            ExpectedRows = total,
        });
        int workers = options.MaxDegreeOfParallelism;
        int slotsPerChunk = 4 * workers;
        var buffers = new[] { NewSlots(), NewSlots() };
        long blocks = (total + BlockRows - 1) / BlockRows;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = ct };
        Task? pending = null;
        long written = 0;
        try
        {
            for (long first = 0, chunk = 0; first < blocks; first += slotsPerChunk, chunk++)
            {
                var slots = buffers[chunk % 2];
                int n = (int)Math.Min(slotsPerChunk, blocks - first);
                long firstBlock = first;
                Parallel.For(0, n, parallel, b => slots[b].Compute(world, rows, firstBlock + b, total, splitTag, sample));
                pending?.GetAwaiter().GetResult();
                pending = Task.Run(() =>
                {
                    for (int b = 0; b < n; b++)
                    {
                        ct.ThrowIfCancellationRequested();
                        slots[b].WriteTo(writer);
                        written += slots[b].Rows;
                    }

                    progress?.Report(new SynthGeoProgress(split, written, total));
                }, ct);
            }

            pending?.GetAwaiter().GetResult();
        }
        catch
        {
            try
            {
                pending?.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
            }

            throw;
        }

        writer.Commit();

        BlockSlot[] NewSlots() => Enumerable.Range(0, slotsPerChunk).Select(_ => new BlockSlot(world, options, extras.Length)).ToArray();
    }

    private static void WriteSettings(string path, SynthGeoOptions options)
    {
        var settings = new SynthGeoSettings(
            "GeoToken.SynthGeo", 1, options.Seed, options.TrainRows, options.TestRows, options.Dimension, options.Modalities,
            options.ElementType.ToString(), options.TestLocationsCsv is null ? "IM2GPS3K (bundled)" : Path.GetFullPath(options.TestLocationsCsv), options.Model);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(settings, SynthGeoJsonContext.Default.SynthGeoSettings) + "\n");
    }

    /// <summary>One block of rows: attributes, latents, embeddings and metadata, plus scratch.</summary>
    private sealed class BlockSlot
    {
        private const int PaddedRows = (BlockRows + Mixer.RowBlock - 1) / Mixer.RowBlock * Mixer.RowBlock;

        private readonly int _latent, _dim, _modalities, _extraCount;
        private readonly FeatureElementType _type;
        private readonly float[] _s, _g, _d;
        private readonly float[][] _z;
        private readonly float[] _hidden, _padded, _out;
        private readonly float[][] _f32;
        private readonly Half[][] _f16;
        private readonly string[] _ids = new string[BlockRows];
        private readonly LatLng[] _locations = new LatLng[BlockRows];
        private readonly string[] _extras;

        public BlockSlot(SynthGeoWorld world, SynthGeoOptions options, int extraCount)
        {
            _latent = world.Latent;
            _dim = options.Dimension;
            _modalities = options.Modalities;
            _type = options.ElementType;
            _extraCount = extraCount;
            _s = new float[_latent];
            _g = new float[_latent];
            _d = new float[_latent];
            _z = Enumerable.Range(0, _modalities).Select(_ => new float[PaddedRows * _latent]).ToArray();
            _hidden = new float[PaddedRows * world.Model.HiddenDimension];
            _padded = new float[PaddedRows * world.Mixers[0].PaddedOutput];
            _out = new float[PaddedRows * _dim];
            _f32 = _type == FeatureElementType.Float32 ? Enumerable.Range(0, _modalities).Select(_ => new float[BlockRows * _dim]).ToArray() : [];
            _f16 = _type == FeatureElementType.Float16 ? Enumerable.Range(0, _modalities).Select(_ => new Half[BlockRows * _dim]).ToArray() : [];
            _extras = new string[BlockRows * extraCount];
        }

        public int Rows { get; private set; }

        public void Compute(SynthGeoWorld world, RowGenerator gen, long block, long total, ulong splitTag, Func<long, (RowSpec Spec, TestLocation? Test)> sample)
        {
            long start = block * BlockRows;
            Rows = (int)Math.Min(BlockRows, total - start);
            var views = new[] { world.Model.ImageView, world.Model.LocationView, world.Model.TextView };
            for (int r = 0; r < Rows; r++)
            {
                long row = start + r;
                var (spec, test) = sample(row);
                gen.Parts(spec, row, splitTag, _s, _g, _d);
                for (int m = 0; m < _modalities; m++)
                {
                    var noise = Rng.For(world.Seed, SynthGeoWorld.TagNoise, splitTag * 4 + (ulong)m, (ulong)row);
                    gen.View(views[m], spec.Locatability, _s, _g, _d, ref noise, _z[m].AsSpan(r * _latent, _latent));
                }

                _locations[r] = spec.Location;
                _ids[r] = string.Create(CultureInfo.InvariantCulture, $"synthgeo-{(splitTag == SplitTrain ? "train" : "test")}-{row:D8}");
                var e = _extras.AsSpan(r * _extraCount, _extraCount);
                int k = 0;
                if (test is not null)
                {
                    e[k++] = test.SourceId;
                    e[k++] = test.Author ?? string.Empty;
                }

                e[k++] = spec.SceneType.ToString(CultureInfo.InvariantCulture);
                e[k++] = spec.SceneClass.ToString(CultureInfo.InvariantCulture);
                e[k++] = spec.Locatability.ToString("0.###", CultureInfo.InvariantCulture);
                e[k++] = spec.Landmark ? "1" : "0";
                e[k] = spec.SeriesKey == 0 ? string.Empty : spec.SeriesKey.ToString("x16", CultureInfo.InvariantCulture);
            }

            int padded = (Rows + Mixer.RowBlock - 1) / Mixer.RowBlock * Mixer.RowBlock;
            for (int m = 0; m < _modalities; m++)
            {
                _z[m].AsSpan(Rows * _latent, (padded - Rows) * _latent).Clear();
                world.Mixers[m].Mix(_z[m], padded, _hidden, _padded, _out);
                var result = _out.AsSpan(0, Rows * _dim);
                if (_type == FeatureElementType.Float16) TensorPrimitives.ConvertToHalf(result, _f16[m]);
                else result.CopyTo(_f32[m]);
            }
        }

        public void WriteTo(GeoDatasetWriter writer)
        {
            int n = Rows * _dim;
            var ids = _ids.AsSpan(0, Rows);
            var locs = _locations.AsSpan(0, Rows);
            var extras = _extras.AsSpan(0, Rows * _extraCount);
            if (_type == FeatureElementType.Float16)
            {
                writer.WriteRows(ids, locs, _f16[0].AsSpan(0, n), _modalities == 3 ? _f16[1].AsSpan(0, n) : default, _modalities == 3 ? _f16[2].AsSpan(0, n) : default, extras);
            }
            else
            {
                writer.WriteRows(ids, locs, _f32[0].AsSpan(0, n), _modalities == 3 ? _f32[1].AsSpan(0, n) : default, _modalities == 3 ? _f32[2].AsSpan(0, n) : default, extras);
            }
        }
    }
}

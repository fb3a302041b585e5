using GeoToken.Data;

namespace GeoToken.SynthGeo;

/// <summary>What <see cref="SynthGeoGenerator"/> generates (the <c>geotoken synth</c> command's options).</summary>
public sealed record SynthGeoOptions
{
    /// <summary>The output folder; <c>train/</c> and <c>test/</c> dataset folders are written inside it (required).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Training (gallery) rows (default 100,000).</summary>
    public long TrainRows { get; init; } = 100_000;

    /// <summary>
    /// Test rows (default 2,997: each IM2GPS3K location once). With fewer, a seeded random subset of the
    /// test locations (in file order); with more, every location once and then seeded draws with replacement.
    /// </summary>
    public int TestRows { get; init; } = 2997;

    /// <summary>Embedding dimension D (default 512).</summary>
    public int Dimension { get; init; } = 512;

    /// <summary>Feature views: 1 (image only) or 3 (image, image→location, image→text; default 1).</summary>
    public int Modalities { get; init; } = 1;

    /// <summary>The random seed; the same seed and options give bit-identical files (default 1).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// A CSV of test locations (columns lat/latitude and lon/lng/longitude, any case; optional IMG_ID/id and
    /// AUTHOR), or null (default) for IM2GPS3K's 2,997 real test locations.
    /// </summary>
    public string? TestLocationsCsv { get; init; }

    /// <summary>How features are stored (default float16).</summary>
    public FeatureElementType ElementType { get; init; } = FeatureElementType.Float16;

    /// <summary>Worker threads (default: one per processor). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The generative model's parameters (default: the calibrated <see cref="SynthGeoModel.Default"/>).</summary>
    public SynthGeoModel Model { get; init; } = SynthGeoModel.Default;

    /// <summary>Throws unless the options are usable; the message names the option and value.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("SynthGeoOptions.OutputDirectory is required.");
        if (TrainRows < 1) throw new ArgumentException($"SynthGeoOptions.TrainRows is {TrainRows}; at least 1 row is needed.");
        if (TestRows < 1) throw new ArgumentException($"SynthGeoOptions.TestRows is {TestRows}; at least 1 row is needed.");
        if (Dimension is < 1 or > 65536) throw new ArgumentException($"SynthGeoOptions.Dimension is {Dimension}; it must be in 1..65536.");
        if (Modalities is not (1 or 3)) throw new ArgumentException($"SynthGeoOptions.Modalities is {Modalities}; it must be 1 or 3.");
        if (MaxDegreeOfParallelism < 1) throw new ArgumentException($"SynthGeoOptions.MaxDegreeOfParallelism is {MaxDegreeOfParallelism}; it must be at least 1.");
        if (TestLocationsCsv is not null && !File.Exists(TestLocationsCsv)) throw new FileNotFoundException($"Test locations file not found: {TestLocationsCsv}", TestLocationsCsv);
        ArgumentNullException.ThrowIfNull(Model);
        Model.Validate();
    }
}

/// <summary>Progress of a generation.</summary>
/// <param name="Split">"train" or "test".</param>
/// <param name="RowsDone">Rows of this split written so far.</param>
/// <param name="RowsTotal">Rows of this split in all.</param>
public sealed record SynthGeoProgress(string Split, long RowsDone, long RowsTotal);

/// <summary>What a generation wrote.</summary>
/// <param name="TrainDirectory">The training (gallery) dataset folder.</param>
/// <param name="TestDirectory">The test dataset folder.</param>
/// <param name="TrainRows">Training rows written.</param>
/// <param name="TestRows">Test rows written.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record SynthGeoResult(string TrainDirectory, string TestDirectory, long TrainRows, int TestRows, TimeSpan Elapsed);

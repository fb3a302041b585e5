using GeoToken.Data;
using GeoToken.SynthGeo;

[assembly: AssemblyFixture(typeof(GeoToken.Retrieval.PostgreSql.Tests.SynthGallery))]

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>
/// A small SynthGeo benchmark (3,000 gallery rows with SERIES, 200 test rows, 64-d float16 image features), generated once.
/// Float16 files matter: the table stores float16 too, so PostgreSQL compares exactly the values the folder holds.
/// </summary>
public sealed class SynthGallery : IAsyncLifetime
{
    private string? _dir;

    public GeoDataset Train { get; private set; } = null!;

    public GeoDataset Test { get; private set; } = null!;

    public string TrainDirectory => Path.GetDirectoryName(Train.MetaPath)!;

    public async ValueTask InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("geotoken-pg-synth-").FullName;
        var result = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions
        {
            OutputDirectory = _dir,
            TrainRows = 3000,
            TestRows = 200,
            Dimension = 64,
            Modalities = 1,
            Seed = 5,
            ElementType = FeatureElementType.Float16,
        });
        Train = GeoDataset.Open(result.TrainDirectory);
        Test = GeoDataset.Open(result.TestDirectory);
    }

    public ValueTask DisposeAsync()
    {
        Train?.Dispose();
        Test?.Dispose();
        if (_dir is not null)
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Row <paramref name="row"/>'s image features.</summary>
    public static float[] Features(GeoDataset d, long row)
    {
        var f = new float[d.Dimension];
        d.Image.ReadRow(row, f);
        return f;
    }
}

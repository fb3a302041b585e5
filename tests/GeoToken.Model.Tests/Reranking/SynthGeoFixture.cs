using GeoToken.Data;
using GeoToken.SynthGeo;

namespace GeoToken.Model.Tests.Reranking;

/// <summary>A small SynthGeo benchmark (4,000 gallery rows, 300 test rows, 64-d image features), generated once per test class.</summary>
public sealed class SynthGeoFixture : IAsyncLifetime
{
    private string? _dir;

    public GeoDataset Train { get; private set; } = null!;

    public GeoDataset Test { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _dir = Path.GetDirectoryName(TestData.TempPath("synth"))!;
        var result = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions
        {
            OutputDirectory = _dir,
            TrainRows = 4000,
            TestRows = 300,
            Dimension = 64,
            Modalities = 1,
            Seed = 3,
            ElementType = FeatureElementType.Float32,
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

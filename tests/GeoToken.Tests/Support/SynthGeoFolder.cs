using GeoToken.Data;
using GeoToken.SynthGeo;

namespace GeoToken.Tests.Support;

/// <summary>
/// A small SynthGeo benchmark (64-d image features, one modality) generated once into a temporary folder, opened, and
/// deleted on disposal: the body of the test fixtures that need a gallery with true positions. Linked into the Model
/// and PostgreSQL test projects (their <c>SynthGeoFixture</c> and <c>SynthGallery</c> choose size, seed and element type).
/// </summary>
/// <param name="tempPrefix">Prefix of the temporary folder's name.</param>
/// <param name="trainRows">Gallery (train) rows.</param>
/// <param name="testRows">Test rows.</param>
/// <param name="seed">The generator's seed.</param>
/// <param name="elementType">How the feature files store values.</param>
public abstract class SynthGeoFolder(string tempPrefix, int trainRows, int testRows, ulong seed, FeatureElementType elementType) : IAsyncLifetime
{
    private string? _dir;

    /// <summary>The gallery split.</summary>
    public GeoDataset Train { get; private set; } = null!;

    /// <summary>The test split.</summary>
    public GeoDataset Test { get; private set; } = null!;

    /// <summary>The gallery split's folder.</summary>
    public string TrainDirectory => Path.GetDirectoryName(Train.MetaPath)!;

    /// <inheritdoc/>
    public async ValueTask InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory(tempPrefix).FullName;
        var result = await SynthGeoGenerator.GenerateAsync(new SynthGeoOptions
        {
            OutputDirectory = _dir,
            TrainRows = trainRows,
            TestRows = testRows,
            Dimension = 64,
            Modalities = 1,
            Seed = seed,
            ElementType = elementType,
        });
        Train = GeoDataset.Open(result.TrainDirectory);
        Test = GeoDataset.Open(result.TestDirectory);
    }

    /// <inheritdoc/>
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

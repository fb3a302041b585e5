using GeoToken.Data;
using GeoToken.Geometry;

namespace GeoToken.Model.Tests.Training;

/// <summary>Small dataset folders written with the real writer: features that carry their location (so a model can learn), three views.</summary>
internal static class TinyDatasets
{
    public static string Write(string folder, int rows, int dim, int seed, int modalities = 3)
    {
        var rng = new Random(seed);
        var opts = new GeoDatasetWriterOptions
        {
            ImageDimension = dim,
            LocationDimension = modalities >= 2 ? dim : null,
            TextDimension = modalities >= 3 ? dim : null,
            ElementType = FeatureElementType.Float32,
        };
        using var w = GeoDatasetWriter.Create(folder, opts);
        var cities = new[] { new LatLng(48.85, 2.35), new LatLng(40.71, -74.0), new LatLng(-33.87, 151.2), new LatLng(35.68, 139.69), new LatLng(-22.9, -43.2) };
        var shared = new Random(12345); // the same city "appearance" in every dataset; noise differs per seed
        var basis = Enumerable.Range(0, cities.Length).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)(shared.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var f = new float[dim];
        for (int r = 0; r < rows; r++)
        {
            int c = r % cities.Length;
            var loc = new LatLng(cities[c].Latitude + rng.NextDouble() - 0.5, cities[c].Longitude + rng.NextDouble() - 0.5);
            for (int i = 0; i < dim; i++) f[i] = basis[c][i] + 0.3f * (float)(rng.NextDouble() * 2 - 1);
            w.WriteRow($"img{r}", loc, f, modalities >= 2 ? f : default, modalities >= 3 ? f : default);
        }

        w.Commit();
        return folder;
    }
}

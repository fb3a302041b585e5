using GeoToken.Data;
using GeoToken.Geometry;
using GeoToken.Places;
using GeoToken.Reranking;
using GeoToken.Retrieval;

namespace GeoToken.Cli;

/// <summary>
/// <c>--gps-gallery geoclip|train|postgresql://…</c>: GeoCLIP's bundled coordinates, the gallery dataset's, or a GPS
/// gallery table written by <c>geotoken db push-gps</c> (searched through its HNSW index).
/// </summary>
internal static class GpsGallerySource
{
    /// <summary>The coordinates named by <paramref name="which"/> (geoclip or train).</summary>
    public static IReadOnlyList<LatLng> Coordinates(string which, string? galleryDirectory, string option = "--gps-gallery")
    {
        switch (which.ToLowerInvariant())
        {
            case "geoclip":
                return GeoClipGallery.Coordinates;
            case "train":
                if (galleryDirectory is null) throw new CliUsageException($"{option} train needs --gallery DIR (the dataset whose coordinates are the gallery).");
                using (var data = GeoDataset.Open(galleryDirectory))
                {
                    return data.GetLocations(0, checked((int)data.Rows)).ToArray();
                }

            default:
                throw new CliUsageException($"{option} {which}: use geoclip, train or a postgresql:// GPS gallery table (geotoken db push-gps).");
        }
    }

    /// <summary>Opens the GPS gallery <paramref name="which"/> for <paramref name="model"/>.</summary>
    public static async Task<OpenedGpsGallery> OpenAsync(SimilarityModel model, string which, string galleryDirectory, bool index, CancellationToken cancellationToken)
    {
        if (PgGalleryAddress.IsUri(which))
        {
            if (index) throw new CliUsageException("--gps-index builds a cluster index in memory; a postgresql:// GPS gallery is searched through its HNSW index.");
            PgGalleryAddress address;
            try
            {
                address = PgGalleryAddress.Parse(which);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException($"--gps-gallery: {e.Message}");
            }

            var table = await PgGallery.OpenAsync(address, cancellationToken).ConfigureAwait(false);
            try
            {
                // The rows present now are the gallery; rows added later stay outside it (their coordinates are not read).
                long rows = await table.RefreshAsync(cancellationToken).ConfigureAwait(false);
                var coordinates = await PgGalleryLocations.ReadAsync(table, rows, cancellationToken).ConfigureAwait(false);
                table.SearchDefaults = table.SearchDefaults with { RowLimit = rows };
                GpsGallery gallery;
                try
                {
                    gallery = GpsGallery.FromSearch(model, coordinates, table);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidOperationException($"--gps-gallery {address}: {e.Message}", e);
                }

                return new OpenedGpsGallery(gallery, table);
            }
            catch
            {
                await table.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        var coords = Coordinates(which, galleryDirectory);

        // The sibling project's ~800 clusters for GeoCLIP's 100,000 coordinates; fewer for small galleries.
        var clusters = index ? new ClusterIndexOptions { Clusters = Math.Clamp(coords.Count / 32, 1, 800) } : null;
        return new OpenedGpsGallery(GpsGallery.Create(model, coords, new GpsGalleryOptions { ClusterIndex = clusters }, cancellationToken), null);
    }
}

/// <summary>A GPS gallery and the database table it searches, if any (both disposed together).</summary>
internal sealed class OpenedGpsGallery(GpsGallery gallery, PgGallery? table) : IAsyncDisposable
{
    public GpsGallery Gallery => gallery;

    public async ValueTask DisposeAsync()
    {
        gallery.Dispose();
        if (table is not null) await table.DisposeAsync().ConfigureAwait(false);
    }
}

using System.Globalization;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Precomputed neighbors (<see cref="NeighborFile"/>, as the paper precomputes them) behind the retrieval contract:
/// answers query row <c>r</c> of the query set the file was computed for with the file's row <c>r</c> (its first K
/// neighbors). The query vectors are not read, only their row numbers and count.
/// </summary>
/// <remarks>Thread-safe (the file is memory-mapped and only read). Does not own the file unless asked to.</remarks>
public sealed class PrecomputedNeighborSearch : INeighborSearch, IDisposable
{
    private readonly bool _ownsFile;
    private readonly Func<string?> _galleryId;
    private string? _id;
    private bool _idKnown;

    /// <summary>Neighbors from <paramref name="file"/>, whose rows index <paramref name="gallery"/>.</summary>
    /// <param name="file">The neighbor files of the query set (queries × at least K).</param>
    /// <param name="gallery">The gallery dataset the neighbor rows index.</param>
    /// <param name="ownsFile">Dispose <paramref name="file"/> with this search (default false).</param>
    public PrecomputedNeighborSearch(NeighborFile file, GeoDataset gallery, bool ownsFile = false)
    {
        File = file ?? throw new ArgumentNullException(nameof(file));
        ArgumentNullException.ThrowIfNull(gallery);
        GalleryRows = gallery.Rows;
        Dimension = gallery.Dimension;
        _galleryId = () => gallery.ContentId;
        _ownsFile = ownsFile;
    }

    /// <summary>The neighbor files read.</summary>
    public NeighborFile File { get; }

    /// <inheritdoc/>
    public string Method => "neighbor file";

    /// <inheritdoc/>
    public long GalleryRows { get; }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <summary>The gallery dataset's <see cref="GeoDataset.ContentId"/> (computed on first use).</summary>
    public string? GalleryId
    {
        get
        {
            if (!_idKnown)
            {
                _id = _galleryId();
                _idKnown = true;
            }

            return _id;
        }
    }

    /// <summary>
    /// The first <see cref="NeighborQueries.K"/> neighbors of each query row. <see cref="NeighborQueries.ExcludeSelf"/>
    /// is what the file was computed with (its sidecar records it); it is not re-applied here.
    /// </summary>
    /// <exception cref="ArgumentException">The query set has another size than the file, or K exceeds the file's.</exception>
    /// <exception cref="InvalidDataException">A stored neighbor lies outside the gallery; the message names the file and row.</exception>
    public ValueTask<NeighborResults> SearchAsync(NeighborQueries queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        int n = queries.QueryCount, k = queries.K;
        if (queries.Vectors.Rows != File.QueryCount)
        {
            throw new ArgumentException($"The neighbor file {File.Indices.Path} has {File.QueryCount} rows but the query set has {queries.Vectors.Rows}; it was computed for other queries.", nameof(queries));
        }

        if (k < 1 || k > File.K) throw new ArgumentOutOfRangeException(nameof(queries), k, $"K = {k}, but the neighbor file {File.Indices.Path} holds {File.K} neighbors per query.");
        var ids = new long[(long)n * k];
        var sims = new float[(long)n * k];
        for (int i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long row = queries.Start + i;
            var fileIds = File.Indices.GetRow(row);
            var fileSims = File.Similarities.GetRow(row);
            for (int j = 0; j < k; j++)
            {
                long g = fileIds[j];
                if ((ulong)g >= (ulong)GalleryRows)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{File.Indices.Path}, row {row + 1} (index {row}): neighbor {j + 1} is gallery row index {g}, outside the gallery's {GalleryRows} rows."));
                }

                ids[i * k + j] = g;
                sims[i * k + j] = fileSims[j];
            }
        }

        return ValueTask.FromResult(NeighborResults.FromArrays(k, ids, sims));
    }

    /// <summary>Disposes the file when this search owns it.</summary>
    public void Dispose()
    {
        if (_ownsFile) File.Dispose();
    }
}

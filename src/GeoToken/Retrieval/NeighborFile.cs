using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Reads the neighbor files of a search (<c>PREFIX_I.npy</c>, <c>PREFIX_D.npy</c>; see
/// <see cref="NeighborFileWriter"/>), memory-mapped, after checking that they agree in shape.
/// </summary>
public sealed class NeighborFile : IDisposable
{
    private NeighborFile(NpyArray<long> indices, NpyArray<float> similarities)
    {
        Indices = indices;
        Similarities = similarities;
    }

    /// <summary>Gallery rows, queries × K, best first.</summary>
    public NpyArray<long> Indices { get; }

    /// <summary>Cosine similarities, queries × K.</summary>
    public NpyArray<float> Similarities { get; }

    /// <summary>Number of queries.</summary>
    public long QueryCount => Indices.Rows;

    /// <summary>Neighbors per query.</summary>
    public int K => Indices.Columns;

    /// <summary>Opens <c><paramref name="prefix"/>_I.npy</c> and <c><paramref name="prefix"/>_D.npy</c>.</summary>
    /// <exception cref="InvalidDataException">The two files differ in shape.</exception>
    public static NeighborFile Open(string prefix)
    {
        var indices = NpyFile.OpenMatrix<long>(prefix + "_I.npy");
        try
        {
            var similarities = NpyFile.OpenMatrix<float>(prefix + "_D.npy", indices.Columns);
            if (similarities.Rows != indices.Rows)
            {
                similarities.Dispose();
                throw new InvalidDataException($"{indices.Path} has {indices.Rows} rows but {similarities.Path} has {similarities.Rows}; they are not from the same search.");
            }

            return new NeighborFile(indices, similarities);
        }
        catch
        {
            indices.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens neighbor files for use as precomputed neighbors: checks their sidecar <c>PREFIX.json</c> — the
    /// SHA-256 of both files (a full read) and that they were computed for <paramref name="expected"/>'s query and
    /// gallery datasets — then opens them.
    /// </summary>
    /// <exception cref="InvalidDataException">The sidecar is missing, a file's content changed, or the files were computed for other datasets; the message names both.</exception>
    public static NeighborFile Open(string prefix, NeighborFileProvenance expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Verify(prefix, expected);
        return Open(prefix);
    }

    /// <summary>The check of <see cref="Open(string, NeighborFileProvenance)"/>, without opening the files.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Open(string, NeighborFileProvenance)"/>.</exception>
    public static void Verify(string prefix, NeighborFileProvenance expected)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentNullException.ThrowIfNull(expected);
        var manifest = NeighborFileManifest.Read(prefix);
        string sidecar = NeighborFileManifest.PathFor(prefix);
        foreach (var (suffix, sha) in new[] { ("_I.npy", manifest.IndicesSha256), ("_D.npy", manifest.SimilaritiesSha256) })
        {
            string path = Path.GetFullPath(prefix + suffix);
            if (!File.Exists(path)) throw new FileNotFoundException($"Neighbor file not found: {path} (its sidecar {sidecar} exists).", path);
            if (GeoToken.IO.FileHash.Sha256(path) != sha)
            {
                throw new InvalidDataException($"{path}: its SHA-256 differs from what {sidecar} records: the file changed after the search wrote it. Recompute the neighbor files.");
            }
        }

        if (manifest.Provenance is not { } p)
        {
            throw new InvalidDataException($"{sidecar} does not record which datasets the neighbors were computed from, so they cannot be checked against queries {expected.QueriesId} and gallery {expected.GalleryId}. Recompute them.");
        }

        if (p.QueriesId != expected.QueriesId || p.GalleryId != expected.GalleryId || p.Settings != expected.Settings)
        {
            throw new InvalidDataException(
                $"{prefix}_I.npy/_D.npy were computed for queries {p.QueriesId} in gallery {p.GalleryId} ({p.Settings ?? "no settings"}), " +
                $"but are used with queries {expected.QueriesId} in gallery {expected.GalleryId} ({expected.Settings ?? "no settings"}) (per {sidecar}). Recompute them for these datasets.");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Indices.Dispose();
        Similarities.Dispose();
    }
}

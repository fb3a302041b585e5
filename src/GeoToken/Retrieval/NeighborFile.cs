using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Reads the neighbour files of a search (<c>PREFIX_I.npy</c>, <c>PREFIX_D.npy</c>; see
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

    /// <summary>Neighbours per query.</summary>
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

    /// <inheritdoc/>
    public void Dispose()
    {
        Indices.Dispose();
        Similarities.Dispose();
    }
}

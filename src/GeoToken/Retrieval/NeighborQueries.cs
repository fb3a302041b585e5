using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>A batch of queries for an <see cref="INeighborSearch"/>: rows of a query matrix and how many neighbors each needs.</summary>
public sealed record NeighborQueries
{
    /// <summary>
    /// The query vectors (image features). The queries are its rows <see cref="Start"/> … Start + <see cref="Count"/> − 1;
    /// a row's number is also how sources of precomputed neighbors find it.
    /// </summary>
    public required FeatureMatrix Vectors { get; init; }

    /// <summary>The first query row of <see cref="Vectors"/> (default 0).</summary>
    public long Start { get; init; }

    /// <summary>Queries in the batch (default: every row of <see cref="Vectors"/> from <see cref="Start"/> on).</summary>
    public int? Count { get; init; }

    /// <summary>Neighbors per query (at least 1).</summary>
    public required int K { get; init; }

    /// <summary>
    /// The query matrix is the gallery itself (training neighbors): query row <c>r</c> never gets gallery row <c>r</c>.
    /// Default false.
    /// </summary>
    public bool ExcludeSelf { get; init; }

    /// <summary>The number of queries (<see cref="Count"/>, or the rows from <see cref="Start"/> on).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside <see cref="Vectors"/> or exceeds an int.</exception>
    public int QueryCount
    {
        get
        {
            ArgumentNullException.ThrowIfNull(Vectors, nameof(Vectors));
            long rows = Vectors.Rows;
            if (Start < 0 || Start > rows) throw new ArgumentOutOfRangeException(nameof(Start), Start, $"Start is outside the {rows} query rows.");
            long count = Count ?? rows - Start;
            if (count < 0 || Start + count > rows) throw new ArgumentOutOfRangeException(nameof(Count), Count, $"Queries {Start}…{Start + count - 1} are outside the {rows} query rows.");
            if (count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(Count), count, "A batch holds at most int.MaxValue queries; search in blocks.");
            return (int)count;
        }
    }
}

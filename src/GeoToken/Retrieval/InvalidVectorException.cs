namespace GeoToken.Retrieval;

/// <summary>A gallery or query vector cannot be compared by cosine similarity: it is zero, or holds NaN or ∞.</summary>
public sealed class InvalidVectorException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="matrix">"gallery" or "query".</param>
    /// <param name="row">The offending row.</param>
    /// <param name="problem">What is wrong, e.g. "is a zero vector".</param>
    /// <param name="path">The file holding the matrix, if known.</param>
    /// <param name="gallery">For a query row: the gallery it was searched in (a file or a description), if known.</param>
    /// <remarks>The message counts rows from 1, as CSV data rows are counted, and gives the 0-based index too: "row 6 (index 5)".</remarks>
    public InvalidVectorException(string matrix, long row, string problem, string? path = null, string? gallery = null)
        : base($"{char.ToUpperInvariant(matrix[0])}{matrix[1..]} row {row + 1} (index {row}){(path is null ? "" : $" of {path}")} {problem}; cosine similarity is undefined{(gallery is null ? "" : $" (searching the gallery {gallery})")}. Remove or fix the row.")
    {
        Matrix = matrix;
        Row = row;
        FilePath = path;
        Problem = problem;
        Gallery = gallery;
    }

    /// <summary>Which matrix ("gallery" or "query").</summary>
    public string Matrix { get; }

    /// <summary>The offending row (0-based).</summary>
    public long Row { get; }

    /// <summary>What is wrong with the row, e.g. "is a zero vector".</summary>
    public string Problem { get; }

    /// <summary>For a query row, the gallery it was searched in (null when not known).</summary>
    public string? Gallery { get; }

    /// <summary>The file holding the matrix (null for in-memory matrices).</summary>
    public string? FilePath { get; }
}

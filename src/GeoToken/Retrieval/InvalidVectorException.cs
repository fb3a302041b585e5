namespace GeoToken.Retrieval;

/// <summary>A gallery or query vector cannot be compared by cosine similarity: it is zero, or holds NaN or ∞.</summary>
public sealed class InvalidVectorException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="matrix">"gallery" or "query".</param>
    /// <param name="row">The offending row.</param>
    /// <param name="problem">What is wrong, e.g. "is a zero vector".</param>
    /// <param name="path">The file holding the matrix, if known.</param>
    public InvalidVectorException(string matrix, long row, string problem, string? path = null)
        : base($"{char.ToUpperInvariant(matrix[0])}{matrix[1..]} row {row}{(path is null ? "" : $" of {path}")} {problem}; cosine similarity is undefined. Remove or fix the row.")
    {
        Matrix = matrix;
        Row = row;
        FilePath = path;
    }

    /// <summary>Which matrix ("gallery" or "query").</summary>
    public string Matrix { get; }

    /// <summary>The offending row (0-based).</summary>
    public long Row { get; }

    /// <summary>The file holding the matrix (null for in-memory matrices).</summary>
    public string? FilePath { get; }
}

namespace GeoToken.Retrieval;

/// <summary>A gallery or query vector cannot be compared by cosine similarity: it is zero, or holds NaN or ∞.</summary>
public sealed class InvalidVectorException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidVectorException(string matrix, long row, string problem)
        : base($"{char.ToUpperInvariant(matrix[0])}{matrix[1..]} row {row} {problem}; cosine similarity is undefined. Remove or fix the row.")
    {
        Matrix = matrix;
        Row = row;
    }

    /// <summary>Which matrix ("gallery" or "query").</summary>
    public string Matrix { get; }

    /// <summary>The offending row (0-based).</summary>
    public long Row { get; }
}

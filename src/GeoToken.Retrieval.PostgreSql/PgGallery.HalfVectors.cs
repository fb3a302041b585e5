using System.Globalization;
using GeoToken.Data;
using Pgvector;

namespace GeoToken.Retrieval;

// float32 → halfvec conversion with the checks a stored or searched vector needs.
public sealed partial class PgGallery
{
    /// <summary>A vector as float16 for pgvector, checked: finite, not zero, and within float16's range.</summary>
    /// <exception cref="InvalidVectorException">The vector is unusable; the message names <paramref name="matrix"/>, the row and the problem.</exception>
    internal static HalfVector ToHalf(ReadOnlySpan<float> values, FeatureMatrix? source, string matrix, long row) =>
        TryToHalf(values, out var half) is { } problem
            ? throw (problem.Length == 0 && source is not null ? VectorNorms.Invalid(source, matrix, row, values) : new InvalidVectorException(matrix, row, problem.Length == 0 ? "is zero or holds NaN or ∞" : problem, (source as NpyFeatureMatrix)?.Path))
            : half!;

    /// <summary>
    /// Converts to float16; returns null when usable, else the problem ("" for zero or non-finite values). Vectors that are
    /// not searched (<paramref name="searched"/> false: the location and text views) may be zero.
    /// </summary>
    internal static string? TryToHalf(ReadOnlySpan<float> values, out HalfVector? vector, bool searched = true)
    {
        vector = null;
        if (searched ? float.IsNaN(VectorNorms.InverseNorm(values)) : HasNonFinite(values)) return "";
        var half = new Half[values.Length];
        bool nonzero = false;
        for (int c = 0; c < values.Length; c++)
        {
            half[c] = (Half)values[c];
            if (Half.IsInfinity(half[c])) return string.Create(CultureInfo.InvariantCulture, $"holds {values[c]} (column {c}), beyond float16's range (±65504) in which the table stores vectors");
            nonzero |= half[c] != Half.Zero;
        }

        if (!nonzero && searched) return "is zero once rounded to float16 (every value is below 6e-8 in magnitude)";
        vector = new HalfVector(half);
        return null;
    }

    private static bool HasNonFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) return true;
        }

        return false;
    }
}

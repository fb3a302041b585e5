using System.Numerics.Tensors;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>Inverse L2 norms and the validation that goes with them (zero, NaN and ∞ vectors are rejected).</summary>
internal static class VectorNorms
{
    /// <summary>Names a matrix in messages: its file, or its shape when it is in memory.</summary>
    public static string Describe(FeatureMatrix matrix) =>
        matrix is NpyFeatureMatrix f ? f.Path : $"an in-memory {matrix.Rows} × {matrix.Columns} matrix";

    /// <summary>1/‖row‖, or NaN when the row is zero, not finite or its squared norm overflows float32.</summary>
    public static float InverseNorm(ReadOnlySpan<float> row)
    {
        float sumOfSquares = TensorPrimitives.SumOfSquares(row);
        if (!(sumOfSquares > 0) || !float.IsFinite(sumOfSquares)) return float.NaN;
        return 1f / MathF.Sqrt(sumOfSquares);
    }

    /// <summary>The exception for an invalid <paramref name="row"/> of <paramref name="source"/> (values as float32).</summary>
    public static InvalidVectorException Invalid(FeatureMatrix source, string matrix, long row, ReadOnlySpan<float> values)
    {
        string? path = (source as NpyFeatureMatrix)?.Path;
        for (int c = 0; c < values.Length; c++)
        {
            if (float.IsNaN(values[c])) return new InvalidVectorException(matrix, row, $"holds NaN (column {c})", path);
            if (float.IsInfinity(values[c])) return new InvalidVectorException(matrix, row, $"holds {(values[c] > 0 ? "+Infinity" : "-Infinity")} (column {c})", path);
        }

        float sumOfSquares = TensorPrimitives.SumOfSquares(values);
        return sumOfSquares == 0
            ? new InvalidVectorException(matrix, row, "is a zero vector (or its squared norm underflows float32)", path)
            : new InvalidVectorException(matrix, row, "has a norm too large for float32 (squared norm overflows)", path);
    }

    /// <summary>
    /// Reads rows [start, start + count) as float32 into <paramref name="destination"/>, checks each and
    /// scales it to unit length; <paramref name="inverseNorms"/> (if not empty) receives 1/‖row‖.
    /// </summary>
    public static void ReadNormalized(FeatureMatrix matrix, string name, long start, int count, Span<float> destination, Span<float> inverseNorms)
    {
        int d = matrix.Columns;
        matrix.ReadRows(start, count, destination);
        for (int i = 0; i < count; i++)
        {
            var row = destination.Slice(i * d, d);
            float inv = InverseNorm(row);
            if (float.IsNaN(inv)) throw Invalid(matrix, name, start + i, row);
            TensorPrimitives.Multiply(row, inv, row);
            if (!inverseNorms.IsEmpty) inverseNorms[i] = inv;
        }
    }

    /// <summary>1/‖row‖ of every row of <paramref name="matrix"/>, in parallel; throws on the first invalid row found.</summary>
    public static float[] InverseNorms(FeatureMatrix matrix, string name, int threads, CancellationToken cancellationToken)
    {
        long rows = matrix.Rows;
        if (rows > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(matrix), rows, "Too many rows.");
        var result = new float[rows];
        const int Chunk = 4096;
        int d = matrix.Columns;
        long chunks = (rows + Chunk - 1) / Chunk;
        var buffers = new System.Collections.Concurrent.ConcurrentBag<float[]>();
        Parallelism.For(chunks, threads, cancellationToken, () => buffers.TryTake(out var b) ? b : new float[d], buffers.Add, (c, buffer) =>
        {
            long start = c * Chunk;
            int n = (int)Math.Min(Chunk, rows - start);
            if (matrix.ElementType == FeatureElementType.Float32)
            {
                var block = matrix.GetFloat32Rows(start, n);
                for (int i = 0; i < n; i++)
                {
                    var row = block.Slice(i * d, d);
                    float inv = InverseNorm(row);
                    if (float.IsNaN(inv)) throw Invalid(matrix, name, start + i, row);
                    result[start + i] = inv;
                }
            }
            else
            {
                var block = matrix.GetFloat16Rows(start, n);
                for (int i = 0; i < n; i++)
                {
                    HalfConversion.Convert(block.Slice(i * d, d), buffer);
                    float inv = InverseNorm(buffer);
                    if (float.IsNaN(inv)) throw Invalid(matrix, name, start + i, buffer);
                    result[start + i] = inv;
                }
            }
        });
        return result;
    }
}

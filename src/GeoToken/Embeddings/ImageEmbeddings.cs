using GeoToken.Data;

namespace GeoToken.Embeddings;

/// <summary>
/// <see cref="Count"/> embedding vectors of <see cref="Dimension"/> floats, one per input image in
/// input order, stored row-major in one array (ready for a NumPy <c>.npy</c> file or a
/// <see cref="FeatureMatrix"/>).
/// </summary>
public sealed class ImageEmbeddings
{
    private readonly float[] _values;

    /// <summary>Wraps <paramref name="values"/> (not copied): <paramref name="count"/> rows of <paramref name="dimension"/> floats.</summary>
    public ImageEmbeddings(float[] values, int count, int dimension)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if ((long)count * dimension != values.Length)
        {
            throw new ArgumentException($"{count} rows × {dimension} need {(long)count * dimension} values; got {values.Length}.", nameof(values));
        }

        _values = values;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>Number of embeddings (images).</summary>
    public int Count { get; }

    /// <summary>Length of each embedding.</summary>
    public int Dimension { get; }

    /// <summary>All values, row-major (<c>Count × Dimension</c>).</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>The embedding of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"There are {Count} embeddings.");
            return _values.AsSpan(index * Dimension, Dimension);
        }
    }

    /// <summary>A copy of the embedding of image <paramref name="index"/>.</summary>
    public float[] GetRow(int index) => this[index].ToArray();

    /// <summary>An in-memory float32 <see cref="FeatureMatrix"/> over the same array (not copied).</summary>
    public FeatureMatrix ToFeatureMatrix() => FeatureMatrix.FromArray(_values, Dimension);
}

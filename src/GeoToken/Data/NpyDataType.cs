namespace GeoToken.Data;

/// <summary>The element types GeoToken reads and writes in NumPy <c>.npy</c> files (all little-endian).</summary>
public enum NpyDataType
{
    /// <summary>IEEE 754 binary16, NumPy <c>&lt;f2</c> (<c>np.float16</c>).</summary>
    Float16,

    /// <summary>IEEE 754 binary32, NumPy <c>&lt;f4</c> (<c>np.float32</c>).</summary>
    Float32,

    /// <summary>IEEE 754 binary64, NumPy <c>&lt;f8</c> (<c>np.float64</c>); used for coordinate sidecars.</summary>
    Float64,

    /// <summary>Signed 32-bit integers, NumPy <c>&lt;i4</c> (<c>np.int32</c>).</summary>
    Int32,

    /// <summary>Signed 64-bit integers, NumPy <c>&lt;i8</c> (<c>np.int64</c>); used for neighbor indices.</summary>
    Int64,
}

/// <summary>Conversions between <see cref="NpyDataType"/>, NumPy type strings and CLR types.</summary>
public static class NpyDataTypes
{
    /// <summary>The NumPy type string (<c>descr</c>) of <paramref name="type"/>, e.g. <c>&lt;f4</c>.</summary>
    public static string Descr(this NpyDataType type) => type switch
    {
        NpyDataType.Float16 => "<f2",
        NpyDataType.Float32 => "<f4",
        NpyDataType.Float64 => "<f8",
        NpyDataType.Int32 => "<i4",
        NpyDataType.Int64 => "<i8",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown NpyDataType."),
    };

    /// <summary>Bytes per element.</summary>
    public static int ItemSize(this NpyDataType type) => type switch
    {
        NpyDataType.Float16 => 2,
        NpyDataType.Float32 or NpyDataType.Int32 => 4,
        NpyDataType.Float64 or NpyDataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown NpyDataType."),
    };

    /// <summary>The <see cref="NpyDataType"/> stored as the CLR type <typeparamref name="T"/> (float, Half, double, int or long).</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is none of those.</exception>
    public static NpyDataType Of<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return NpyDataType.Float32;
        if (typeof(T) == typeof(Half)) return NpyDataType.Float16;
        if (typeof(T) == typeof(double)) return NpyDataType.Float64;
        if (typeof(T) == typeof(long)) return NpyDataType.Int64;
        if (typeof(T) == typeof(int)) return NpyDataType.Int32;
        throw new NotSupportedException($"{typeof(T).Name} has no .npy type; use float, Half, double, int or long.");
    }

    /// <summary>The <see cref="NpyDataType"/> of a <see cref="FeatureElementType"/>.</summary>
    public static NpyDataType ToNpy(this FeatureElementType type) => type switch
    {
        FeatureElementType.Float32 => NpyDataType.Float32,
        FeatureElementType.Float16 => NpyDataType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown FeatureElementType."),
    };

    /// <summary>Parses a little-endian type string we support; null otherwise.</summary>
    internal static NpyDataType? TryParse(string descr) => descr switch
    {
        "<f2" => NpyDataType.Float16,
        "<f4" => NpyDataType.Float32,
        "<f8" => NpyDataType.Float64,
        "<i4" => NpyDataType.Int32,
        "<i8" => NpyDataType.Int64,
        _ => null,
    };
}

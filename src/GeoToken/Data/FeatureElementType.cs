namespace GeoToken.Data;

/// <summary>How feature values are stored.</summary>
public enum FeatureElementType
{
    /// <summary>IEEE 754 binary32 (NumPy <c>&lt;f4</c>).</summary>
    Float32,

    /// <summary>IEEE 754 binary16 (NumPy <c>&lt;f2</c>): half the disk and page cache, converted to float32 on read.</summary>
    Float16,
}

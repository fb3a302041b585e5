using static TorchSharp.torch;

namespace GeoToken.IO;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">The safetensors element type as written in the file (<c>F32</c>, <c>BF16</c>, <c>I64</c>, <c>BOOL</c>…).</param>
/// <param name="ScalarType">The TorchSharp element type it is read as.</param>
/// <param name="Shape">The tensor's shape (empty for a scalar).</param>
/// <param name="Begin">The first byte of its data, counted from the start of the data section.</param>
/// <param name="End">One past its last byte, counted from the start of the data section.</param>
public sealed record SafeTensorsEntry(string Name, string DType, ScalarType ScalarType, long[] Shape, long Begin, long End)
{
    /// <summary>The number of bytes of its data (<see cref="End"/> − <see cref="Begin"/>).</summary>
    public long ByteLength => End - Begin;
}

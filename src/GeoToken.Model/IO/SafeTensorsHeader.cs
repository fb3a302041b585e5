
namespace GeoToken.IO;

/// <summary>The parsed and checked header of a safetensors file: its metadata and tensor directory.</summary>
/// <param name="Source">The file it was read from, as named in error messages.</param>
/// <param name="Metadata">The <c>__metadata__</c> string map (empty when absent).</param>
/// <param name="Tensors">The tensors in the order the header lists them.</param>
/// <param name="DataStart">The file offset of the data section (8 + the header length).</param>
public sealed record SafeTensorsHeader(string Source, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<SafeTensorsEntry> Tensors, long DataStart);

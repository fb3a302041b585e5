namespace GeoToken.Model.Import;

/// <summary>One tensor of the reference layout: its name and shape there, and the parameter(s) it is here.</summary>
/// <param name="Name">The reference's state-dict key.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Kind">How it maps.</param>
/// <param name="Ours">This library's state-dict key(s): one, three for <see cref="ReferenceTensorKind.Packed"/> (query, key, value), none for unused tensors and position tables.</param>
internal sealed record ReferenceTensor(string Name, long[] Shape, ReferenceTensorKind Kind, string[] Ours);

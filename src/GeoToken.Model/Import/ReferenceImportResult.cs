namespace GeoToken.Model.Import;

/// <summary>A model imported from a reference checkpoint, and what of the checkpoint it does not use.</summary>
/// <param name="Model">The model (paper layout, post-norm, no copy head), in evaluation mode; the caller owns it.</param>
/// <param name="IgnoredTensors">
/// Tensors the reference defines but never uses in its forward pass (<c>similarity_embedding</c>, <c>metadata_proj</c>,
/// <c>coord_head</c>), skipped after their shapes were checked.
/// </param>
public sealed record ReferenceImportResult(GeoTokenModel Model, IReadOnlyList<string> IgnoredTensors);

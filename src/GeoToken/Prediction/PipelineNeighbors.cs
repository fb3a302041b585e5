using GeoToken.Retrieval;

namespace GeoToken.Prediction;

/// <summary>Stage 1's output: the neighbors, and their rows when the search returned them (a gallery without a local folder).</summary>
internal sealed record PipelineNeighbors(NeighborResults Results, NeighborRows? Rows);

using GeoToken.Decoding;
using GeoToken.Retrieval;

namespace GeoToken.Prediction;

/// <summary>One batch inside the pipeline: its query features, neighbors and kept encoder output.</summary>
internal sealed class PipelineBatch(float[] features, int count, PipelineNeighbors neighbors, IEncodedBatch encoded) : IDisposable
{
    /// <summary>Query features <c>[Count, M, D]</c>, row-major.</summary>
    public float[] Features { get; } = features;

    /// <summary>Queries in the batch.</summary>
    public int Count { get; } = count;

    /// <summary>Their neighbors (stage 1).</summary>
    public NeighborResults Neighbors { get; } = neighbors.Results;

    /// <summary>The neighbors' rows when the search returned them (no gallery folder), else null.</summary>
    public NeighborRows? Rows { get; } = neighbors.Rows;

    /// <summary>The kept encoder output (stage 3).</summary>
    public IEncodedBatch Encoded { get; } = encoded;

    /// <summary>Releases the encoder output.</summary>
    public void Dispose() => Encoded.Dispose();
}

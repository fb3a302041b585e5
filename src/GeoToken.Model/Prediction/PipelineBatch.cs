using GeoToken.Decoding;
using GeoToken.Retrieval;

namespace GeoToken.Model.Prediction;

/// <summary>One batch inside the pipeline: its query features, neighbors, tensors and kept encoder output.</summary>
internal sealed class PipelineBatch(float[] features, int count, PipelineNeighbors neighbors, GeoTokenBatch tensors, EncodedBatch encoded) : IDisposable
{
    /// <summary>Query features <c>[Count, M, D]</c>, row-major.</summary>
    public float[] Features { get; } = features;

    /// <summary>Queries in the batch.</summary>
    public int Count { get; } = count;

    /// <summary>Their neighbors (stage 1).</summary>
    public NeighborResults Neighbors { get; } = neighbors.Results;

    /// <summary>The neighbors' rows when the search returned them (no gallery folder), else null.</summary>
    public NeighborRows? Rows { get; } = neighbors.Rows;

    /// <summary>The assembled tensors (stage 2).</summary>
    public GeoTokenBatch Tensors { get; } = tensors;

    /// <summary>The kept encoder output (stage 3).</summary>
    public EncodedBatch Encoded { get; } = encoded;

    /// <summary>Releases the encoder output and the tensors.</summary>
    public void Dispose()
    {
        Encoded.Dispose();
        Tensors.Dispose();
    }
}

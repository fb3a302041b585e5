namespace GeoToken.Retrieval;

/// <summary>
/// Receives search results block by block, in query order: for each query its K gallery row
/// indices (best first) and their cosine similarities.
/// </summary>
public interface INeighborSink
{
    /// <summary>Called once before any block, with the result shape (<paramref name="queryCount"/> × <paramref name="k"/>).</summary>
    void Begin(long queryCount, int k);

    /// <summary>
    /// Results of queries [<paramref name="firstQuery"/>, <paramref name="firstQuery"/> + n), row-major n × K
    /// (n = <paramref name="indices"/>.Length / K). The spans are only valid during the call.
    /// </summary>
    void Write(long firstQuery, ReadOnlySpan<long> indices, ReadOnlySpan<float> similarities);

    /// <summary>Called once after the last block; not called when the search fails or is cancelled.</summary>
    void Complete();
}

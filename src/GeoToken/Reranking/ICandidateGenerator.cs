using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>
/// Proposes candidate locations for a query directly from its features or neighbors, without the
/// token decoder — e.g. a GeoCLIP-style GPS gallery. Its first candidate is a prediction of its own;
/// the others can join a candidate pool.
/// </summary>
public interface ICandidateGenerator
{
    /// <summary>A short name for tables and reports (e.g. <c>gps-gallery</c>).</summary>
    string Name { get; }

    /// <summary>Up to <paramref name="count"/> candidates, best first.</summary>
    Task<IReadOnlyList<GeoCandidate>> GenerateAsync(RerankQuery query, int count, CancellationToken cancellationToken = default);
}

using GeoToken.Decoding;

namespace GeoToken.Reranking;

/// <summary>A candidate with the score a reranker gave it (higher is better; scales differ between rerankers).</summary>
public sealed record ScoredCandidate(GeoCandidate Candidate, double Score);

namespace GeoToken.Decoding;

/// <summary>One image's sequences from <see cref="TokenSearch.Run"/>.</summary>
/// <param name="Greedy">The greedy sequence (null when not planned).</param>
/// <param name="Samples">The samples in drawing order.</param>
/// <param name="Beams">The live beams, best first (see <see cref="SearchPlan.BeamRanking"/>), at most <see cref="SearchPlan.BeamReturn"/>.</param>
public sealed record ImageSearchResult(DecodedSequence? Greedy, IReadOnlyList<DecodedSequence> Samples, IReadOnlyList<DecodedSequence> Beams)
{
    /// <summary>
    /// The image's candidate pool: greedy, samples, then beams, merged by cell (<see cref="CandidatePool.Merge"/>:
    /// counts add up, sources combine, the highest log-probability is kept; merged candidates keep their first place).
    /// </summary>
    public IReadOnlyList<GeoCandidate> ToPool() => CandidatePool.Merge(Candidates());

    private IEnumerable<GeoCandidate> Candidates()
    {
        if (Greedy is not null) yield return Greedy.ToCandidate(CandidateSources.Greedy);
        foreach (var s in Samples) yield return s.ToCandidate(CandidateSources.Sample);
        foreach (var b in Beams) yield return b.ToCandidate(CandidateSources.Beam);
    }
}

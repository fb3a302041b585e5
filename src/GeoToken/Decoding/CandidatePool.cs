namespace GeoToken.Decoding;

/// <summary>Builds candidate pools: candidates naming the same S2 cell are merged.</summary>
public static class CandidatePool
{
    /// <summary>
    /// Merges candidates by cell (free-position candidates by exact position): counts add up,
    /// sources combine, the highest log-probability is kept (and the first reward). Order: first appearance.
    /// </summary>
    public static IReadOnlyList<GeoCandidate> Merge(IEnumerable<GeoCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var order = new List<GeoCandidate>();
        var index = new Dictionary<(ulong, double, double), int>();
        foreach (var c in candidates)
        {
            var key = c.Cell.Id != 0 ? (c.Cell.Id, 0.0, 0.0) : (0UL, c.Position.Latitude, c.Position.Longitude);
            if (index.TryGetValue(key, out int i))
            {
                var m = order[i];
                order[i] = m with
                {
                    Count = m.Count + c.Count,
                    Sources = m.Sources | c.Sources,
                    LogProbability = double.IsNaN(m.LogProbability) ? c.LogProbability
                        : double.IsNaN(c.LogProbability) ? m.LogProbability : Math.Max(m.LogProbability, c.LogProbability),
                    Tokens = m.Tokens ?? c.Tokens,
                };
            }
            else
            {
                index[key] = order.Count;
                order.Add(c);
            }
        }

        return order;
    }
}

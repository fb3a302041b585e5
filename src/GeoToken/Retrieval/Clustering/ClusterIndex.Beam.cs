namespace GeoToken.Retrieval;

// Beam widths per level: derived from a leaf beam, checked against the tree.
public sealed partial class ClusterIndex
{
    /// <summary>
    /// How much wider than the beam below each upper level's beam is, in children: with the default 10, a leaf beam
    /// of 400 of 15,600 leaves under 800 top clusters keeps the best 206 top clusters (≈ 4,000 leaf centroids
    /// compared). Upper-level centroids are few and cheap to compare; a wide upper beam lets the leaf beam take the
    /// globally nearest leaves, which scans fewer gallery rows for the same recall than a narrow one (measured in
    /// benchmarks/peers/retrieval_compare.sh).
    /// </summary>
    public const double UpperBeamFactor = 10;

    /// <summary>
    /// Beam widths (top level first) for a leaf beam of <paramref name="leafProbes"/>: each level above keeps about
    /// <paramref name="upperBeamFactor"/> times as many children as the beam below (see <see cref="UpperBeamFactor"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="upperBeamFactor"/> is below 1.</exception>
    public int[] ProbesForLeafBeam(int leafProbes, double upperBeamFactor = UpperBeamFactor) => ProbesFor(leafProbes, _tree.NodeCounts, upperBeamFactor);

    internal static int[] ProbesFor(int leafProbes, int[] nodeCounts, double upperBeamFactor = UpperBeamFactor)
    {
        if (!(upperBeamFactor >= 1)) throw new ArgumentOutOfRangeException(nameof(upperBeamFactor), upperBeamFactor, "The upper beam factor must be at least 1.");
        var p = new int[nodeCounts.Length];
        p[^1] = Math.Clamp(leafProbes, 1, nodeCounts[^1]);
        for (int l = nodeCounts.Length - 2; l >= 0; l--)
        {
            p[l] = Math.Clamp((int)Math.Ceiling(upperBeamFactor * p[l + 1] * nodeCounts[l] / nodeCounts[l + 1]), 1, nodeCounts[l]);
        }

        return p;
    }

    private static void CheckProbes(IReadOnlyList<int> probes, int[] nodeCounts, string name)
    {
        if (probes.Count != nodeCounts.Length)
        {
            throw new ArgumentException($"{name} has {probes.Count} entries but the index has {nodeCounts.Length} levels; give one beam width per level, top first (e.g. [{string.Join(", ", HeuristicProbes(nodeCounts))}]).");
        }

        for (int l = 0; l < probes.Count; l++)
        {
            if (probes[l] < 1 || probes[l] > nodeCounts[l])
            {
                throw new ArgumentOutOfRangeException(name, probes[l], $"{name}[{l}] = {probes[l]} is outside 1..{nodeCounts[l]} (the clusters at level {l}).");
            }
        }
    }

    /// <summary>Uncalibrated default beam widths: the leaf beam covers about 2 % of the leaves (see <see cref="ProbesFor"/>).</summary>
    internal static int[] HeuristicProbes(int[] nodeCounts) => ProbesFor((int)Math.Ceiling(0.02 * nodeCounts[^1]), nodeCounts);
}

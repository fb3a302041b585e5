using System.Globalization;

namespace GeoToken.Retrieval;

/// <summary>
/// Passes on, for each query of a self-search (queries = gallery), its first <c>k</c> neighbors outside its own
/// group, from a search that returned enough extra neighbors; queries answered separately (their groups exceed the
/// extra neighbors) take their precomputed rows instead.
/// </summary>
internal sealed class GroupExcludingSink(INeighborSink inner, NeighborGroups groups, int k, IReadOnlyDictionary<long, (long[] Ids, float[] Sims)> precomputed) : INeighborSink
{
    private int _searchK;
    private long[] _ids = [];
    private float[] _sims = [];

    public void Begin(long queryCount, int k1)
    {
        _searchK = k1;
        inner.Begin(queryCount, k);
    }

    public void Write(long firstQuery, ReadOnlySpan<long> indices, ReadOnlySpan<float> similarities)
    {
        int n = indices.Length / _searchK;
        if (_ids.Length < n * k)
        {
            _ids = new long[n * k];
            _sims = new float[n * k];
        }

        for (int q = 0; q < n; q++)
        {
            long row = firstQuery + q;
            var ids = _ids.AsSpan(q * k, k);
            var sims = _sims.AsSpan(q * k, k);
            if (precomputed.TryGetValue(row, out var done))
            {
                done.Ids.CopyTo(ids);
                done.Sims.CopyTo(sims);
                continue;
            }

            int kept = Keep(groups, row, indices.Slice(q * _searchK, _searchK), similarities.Slice(q * _searchK, _searchK), ids, sims);
            if (kept < k)
            {
                // Cannot happen when the search returned k + (group size - 1) neighbors; kept as a guard.
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Query row {row + 1} (index {row}) has only {kept} of its {_searchK} nearest rows outside its '{groups.Column}' group ({groups.SizeOf(row)} rows); {k} are needed."));
            }
        }

        inner.Write(firstQuery, _ids.AsSpan(0, n * k), _sims.AsSpan(0, n * k));
    }

    public void Complete() => inner.Complete();

    /// <summary>Copies the neighbors of <paramref name="row"/> outside its group, best first, until the destination is full; returns how many.</summary>
    internal static int Keep(NeighborGroups groups, long row, ReadOnlySpan<long> ids, ReadOnlySpan<float> sims, Span<long> keptIds, Span<float> keptSims)
    {
        int kept = 0;
        for (int j = 0; j < ids.Length && kept < keptIds.Length; j++)
        {
            if (groups.SameGroup(row, ids[j])) continue;
            keptIds[kept] = ids[j];
            keptSims[kept] = sims[j];
            kept++;
        }

        return kept;
    }
}
